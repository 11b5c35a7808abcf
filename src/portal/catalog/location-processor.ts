import type { Logger } from 'pino';
import type { Client } from '../../api/client.js';
import { isApiError } from '../../api/errors.js';
import type { Resource } from '../../api/types.js';
import type { ControllerSpec, ReconcileResult } from '../../runtime/controller.js';
import type { InformerFactory } from '../../runtime/informer.js';
import type { CatalogIndex } from './catalog-index.js';
import {
  ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION, ANNOTATION_ORPHAN, DEFAULT_NAMESPACE, entityProblems, entityRef, INTERNAL_PREFIX, refKey, resourceNameFor, withDefaults,
  type Entity, type StatusItem,
} from './entity.js';
import { CATALOG_KINDS, catalogKind, entityToResource, internalAnnotation, resourceToEntity, storageApiVersion } from './kinds.js';
import { locationRef, NotFoundError, parseCatalogFile, parseLocationRef, type LocationReader, type LocationSpec } from './location-reader.js';
import { canonicalJson } from './canonical.js';

export const PROCESSING_ERROR = 'backstage.io/catalog-processing';
export const REGISTERED = `${INTERNAL_PREFIX}registered`;
export const EMITTED_BY = `${INTERNAL_PREFIX}emitted-by`;
const LOCATION_API = storageApiVersion(catalogKind('Location')!);

/** What reading a Location produced, before anything is written. */
export interface LocationReadResult {
  entities: Entity[];
  errors: StatusItem[];
  /** Invalid documents that name an entity: that entity keeps its last good version and shows the error. */
  invalid: { key: string; item: StatusItem }[];
  /** The files or URLs read, resolved: a push to one of them refreshes this Location. */
  targets: LocationSpec[];
  /** Location refs of targets that could not be read or parsed: what they provided is kept as it was. */
  failed: string[];
}

export interface ProcessorSettings {
  /** What happens to an entity its location no longer provides: marked orphan (keep) or deleted. */
  orphanStrategy: 'keep' | 'delete';
}

function errorItem(message: string, name = 'InputError'): StatusItem {
  return { type: PROCESSING_ERROR, level: 'error', message, error: { name, message } };
}

/**
 * Processes Location entities: reads their targets, substitutes placeholders, validates each
 * entity and writes the valid ones (owned by the Location, so deleting a registered location
 * removes what it brought in). An invalid document never stops the rest; it shows as a status
 * item on the Location, and on the entity it names when that entity exists. Entities that a
 * location stops providing are marked `backstage.io/orphan` or deleted, per the strategy.
 */
export class LocationProcessor {
  private namespaces = new Set<string>([DEFAULT_NAMESPACE]);

  constructor(
    private readonly client: Client,
    private readonly informers: InformerFactory,
    private readonly reader: LocationReader,
    private readonly index: CatalogIndex,
    private readonly log: Logger,
    private readonly settings: ProcessorSettings,
  ) {}

  /** The location a Location entity's relative targets resolve against, and its origin. */
  private context(loc: Entity): { base?: LocationSpec; origin: string; type: string } {
    const ann = loc.metadata.annotations ?? {};
    const managedBy = ann[ANNOTATION_LOCATION];
    const base = managedBy ? parseLocationRef(managedBy) : undefined;
    const type = loc.spec?.type ?? base?.type ?? 'url';
    const origin = ann[ANNOTATION_ORIGIN_LOCATION] ?? managedBy ?? locationRef({ type, target: loc.spec?.target ?? '' });
    return { base: base && (base.type === 'file' || base.type === 'url') ? base : undefined, origin, type };
  }

  /** Reads everything a Location entity points at. Never throws for bad content: that becomes errors. */
  async read(loc: Entity): Promise<LocationReadResult> {
    const out: LocationReadResult = { entities: [], errors: [], invalid: [], targets: [], failed: [] };
    const { base, origin, type } = this.context(loc);
    const originSpec = parseLocationRef(origin);
    const rootDir = originSpec.type === 'file' ? this.reader.resolveTarget('file', '.', { type: 'file', target: originSpec.target }) : undefined;
    const raw: string[] = loc.spec?.targets ?? (loc.spec?.target ? [loc.spec.target] : []);
    const optional = loc.spec?.presence === 'optional';
    const self = refKey(entityRef(loc));
    for (const t of raw) {
      let targets: LocationSpec[];
      try {
        targets = await this.reader.expand({ type, target: this.reader.resolveTarget(type, t, base) });
      } catch (e) {
        out.errors.push(errorItem(`target "${t}": ${(e as Error).message}`));
        continue;
      }
      for (const target of targets) {
        out.targets.push(target);
        let text: string;
        try {
          text = await this.reader.read(target);
        } catch (e) {
          if (e instanceof NotFoundError && optional) continue;
          out.failed.push(locationRef(target));
          out.errors.push(errorItem(`${locationRef(target)}: ${(e as Error).message}`, e instanceof NotFoundError ? 'NotFoundError' : 'Error'));
          continue;
        }
        for (const doc of parseCatalogFile(text, locationRef(target))) {
          if (doc.error) {
            out.failed.push(locationRef(target));
            out.errors.push(errorItem(doc.error));
            continue;
          }
          const where = `${locationRef(target)} document ${doc.index + 1}`;
          let entity: Entity;
          try {
            // most documents have no placeholders: skip the walk for them
            entity = (hasPlaceholder(doc.value) ? await this.reader.substitute(doc.value, target, rootDir) : doc.value) as Entity;
          } catch (e) {
            this.recordInvalid(out, doc.value, `${where}: ${(e as Error).message}`);
            continue;
          }
          const problems = entityProblems(entity);
          if (!problems.length && !catalogKind(entity.kind)) problems.push(new Error(`kind: "${entity.kind}" is not a catalog kind (${CATALOG_KINDS.map((k) => k.kind).join(', ')})`) as never);
          if (problems.length) {
            this.recordInvalid(out, entity, `${where}: ${describeDoc(entity)} is invalid: ${problems.map((p) => p.message).join('; ')}`);
            continue;
          }
          withDefaults(entity);
          if (refKey(entityRef(entity)) === self) {
            out.errors.push(errorItem(`${where}: a location cannot provide itself`));
            continue;
          }
          entity.metadata.annotations = {
            ...(entity.metadata.annotations ?? {}),
            [ANNOTATION_LOCATION]: locationRef(target),
            [ANNOTATION_ORIGIN_LOCATION]: origin,
          };
          out.entities.push(entity);
        }
      }
    }
    return out;
  }

  private recordInvalid(out: LocationReadResult, doc: unknown, message: string): void {
    const item = errorItem(message);
    out.errors.push(item);
    const d = doc as Entity;
    if (d && typeof d.kind === 'string' && typeof d.metadata?.name === 'string') {
      out.invalid.push({ key: refKey({ kind: d.kind, namespace: typeof d.metadata.namespace === 'string' ? d.metadata.namespace : DEFAULT_NAMESPACE, name: d.metadata.name }), item });
    }
  }

  private existing(kind: string, namespace: string, name: string): Resource | undefined {
    const k = catalogKind(kind)!;
    return this.informers.get(storageApiVersion(k), k.kind).get(`${namespace}/${resourceNameFor(name)}`);
  }

  private async ensureNamespace(ns: string): Promise<void> {
    if (this.namespaces.has(ns)) return;
    try {
      await this.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    } catch (e) {
      if (!isApiError(e, 409)) throw e;
    }
    this.namespaces.add(ns);
  }

  /** Reconciles one Location resource (key `namespace/name`): read, write, orphan, report. */
  async reconcile(key: string): Promise<ReconcileResult | void> {
    const locResource = this.informers.get(LOCATION_API, 'Location').get(key);
    if (!locResource || locResource.metadata.deletionTimestamp) return;
    const loc = resourceToEntity(locResource);
    const selfKey = refKey(entityRef(loc));
    const result = await this.read(loc);
    const errors = [...result.errors];
    const emitted: string[] = [];
    const owner = { apiVersion: LOCATION_API, kind: 'Location', name: locResource.metadata.name!, uid: locResource.metadata.uid!, blockOwnerDeletion: false };
    const writes: (() => Promise<void>)[] = [];
    for (const ns of new Set(result.entities.map((e) => e.metadata.namespace ?? DEFAULT_NAMESPACE))) await this.ensureNamespace(ns);
    for (const entity of result.entities) {
      const ek = refKey(entityRef(entity));
      const desired = entityToResource(entity)!;
      desired.metadata.annotations = { ...(desired.metadata.annotations ?? {}), [EMITTED_BY]: selfKey };
      desired.metadata.ownerReferences = [owner];
      const ns = desired.metadata.namespace!;
      const current = this.existing(entity.kind, ns, entity.metadata.name);
      if (current) {
        const by = internalAnnotation(current, 'emitted-by');
        const orphaned = current.metadata.annotations?.[ANNOTATION_ORPHAN] === 'true';
        if (by && by !== selfKey && !orphaned && this.index.get(by)) {
          errors.push(errorItem(`${entityRef(entity)} is already provided by ${by}; this location's copy is ignored`, 'ConflictError'));
          continue;
        }
      }
      emitted.push(ek);
      const changed = !current || comparable(current) !== comparable(desired);
      const hadError = current?.status?.items?.some((i: StatusItem) => i.type === PROCESSING_ERROR);
      if (!changed && !hadError) continue;
      writes.push(async () => {
        try {
          let stored = current;
          if (!current) stored = await this.client.create(desired, { fieldManager: 'pave-catalog' });
          else if (changed) stored = await this.client.update({ ...desired, metadata: { ...desired.metadata, resourceVersion: current.metadata.resourceVersion } }, { fieldManager: 'pave-catalog' });
          if (hadError && stored) await this.setStatusItems(stored, []);
        } catch (e) {
          if (isApiError(e, 409)) throw e;
          errors.push(errorItem(`${entityRef(entity)} could not be stored: ${(e as Error).message}`));
        }
      });
    }
    await inParallel(writes, 64);
    for (const { key: ek, item } of result.invalid) {
      const rec = this.index.get(ek);
      const current = rec && this.existing(rec.entity.kind, rec.resource.namespace, rec.entity.metadata.name);
      if (current) {
        emitted.push(ek);
        await this.setStatusItems(current, [item]);
      }
    }
    const previous: string[] = locResource.status?.emitted ?? [];
    const now = new Set(emitted);
    const failed = new Set(result.failed);
    for (const gone of previous.filter((k) => !now.has(k))) {
      const from = this.index.get(gone)?.entity.metadata.annotations?.[ANNOTATION_LOCATION];
      if (from && failed.has(from)) now.add(gone);
      else await this.orphan(gone, selfKey);
    }
    const status = { ...(locResource.status ?? {}), items: errors, emitted: [...now].sort(), targets: result.targets.map(locationRef) };
    if (canonicalJson(status) !== canonicalJson(locResource.status ?? {})) {
      await this.client.updateStatus({ ...locResource, status });
    }
    if (errors.length) this.log.info({ location: selfKey, errors: errors.length }, 'location processed with errors');
  }

  private async orphan(key: string, selfKey: string): Promise<void> {
    const rec = this.index.get(key);
    if (!rec || rec.emittedBy !== selfKey) return;
    const ref = { apiVersion: rec.resource.apiVersion, kind: rec.resource.kind, namespace: rec.resource.namespace, name: rec.resource.name };
    try {
      if (this.settings.orphanStrategy === 'delete') await this.client.delete(ref);
      else await this.client.patch(ref, 'merge', { metadata: { annotations: { [ANNOTATION_ORPHAN]: 'true' } } });
    } catch (e) {
      if (!isApiError(e, 404)) throw e;
    }
  }

  private async setStatusItems(r: Resource, items: StatusItem[]): Promise<void> {
    const keep = (r.status?.items ?? []).filter((i: StatusItem) => i.type !== PROCESSING_ERROR);
    const next = [...keep, ...items];
    if (canonicalJson(next) === canonicalJson(r.status?.items ?? [])) return;
    await this.client.updateStatus({ ...r, status: { ...(r.status ?? {}), items: next } });
  }

  controller(): ControllerSpec {
    return {
      name: 'catalog-locations',
      for: { apiVersion: LOCATION_API, kind: 'Location' },
      generationChangedOnly: true,
      workers: 4,
      reconcile: (key) => this.reconcile(key),
    };
  }
}

/**
 * Runs writes a few dozen at a time: the store commits the writes that arrive together in one
 * transaction, so a location of thousands of entities is stored in tens of commits, not thousands.
 */
async function inParallel(tasks: (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (next < tasks.length && failure === undefined) {
      const t = tasks[next++]!;
      await t().catch((e) => (failure ??= e));
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, lane));
  if (failure !== undefined) throw failure;
}

function hasPlaceholder(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasPlaceholder);
  if (!v || typeof v !== 'object') return false;
  for (const [k, x] of Object.entries(v)) if (k === '$text' || k === '$json' || k === '$yaml' || hasPlaceholder(x)) return true;
  return false;
}

function describeDoc(e: Entity): string {
  return e?.kind && e?.metadata?.name ? `${e.kind} "${e.metadata.name}"` : 'the entity';
}

/** The parts of a stored entity that its location decides (not status, not server fields). */
function comparable(r: Resource): string {
  const { uid, resourceVersion, generation, creationTimestamp, managedFields, ...meta } = r.metadata;
  return canonicalJson({ metadata: meta, spec: r.spec ?? {} });
}

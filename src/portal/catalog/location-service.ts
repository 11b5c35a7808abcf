import { createHash } from 'node:crypto';
import type { Client } from '../../api/client.js';
import { ApiError, isApiError } from '../../api/errors.js';
import type { Resource } from '../../api/types.js';
import type { WorkQueue } from '../../runtime/workqueue.js';
import type { CatalogIndex, IndexedEntity } from './catalog-index.js';
import { ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION, DEFAULT_NAMESPACE, entityRef, type Entity } from './entity.js';
import { catalogKind, storageApiVersion } from './kinds.js';
import { locationRef, type LocationReader } from './location-reader.js';
import { REGISTERED, type LocationProcessor } from './location-processor.js';

/** A registered location as Backstage's /locations API shows it. */
export interface LocationInfo {
  id: string;
  type: string;
  target: string;
}

const LOCATION_API = storageApiVersion(catalogKind('Location')!);

/**
 * Registered locations. Each is a Location entity named `generated-<sha1 of type:target>` in
 * the default namespace; its id is that resource's uid, so the list lives in the resource API
 * (visible to kubectl, survives restarts) rather than in a table of its own.
 */
export class LocationService {
  constructor(
    private readonly client: Client,
    private readonly index: CatalogIndex,
    private readonly reader: LocationReader,
    private readonly processor: LocationProcessor,
    private readonly queue: () => WorkQueue<string> | undefined,
  ) {}

  private normalise(type: string, target: string): { type: string; target: string } {
    if (type !== 'url' && type !== 'file') throw ApiError.badRequest(`location type "${type}" is not supported: use url or file`);
    if (!target || typeof target !== 'string') throw ApiError.badRequest('location target is required');
    try {
      return { type, target: this.reader.resolveTarget(type, target) };
    } catch (e) {
      throw ApiError.badRequest(`location target "${target}" is not a valid ${type}: ${(e as Error).message}`);
    }
  }

  private entityFor(l: { type: string; target: string }, traceId?: string): Entity {
    const ref = locationRef(l);
    const annotations: Record<string, string> = { [ANNOTATION_LOCATION]: ref, [ANNOTATION_ORIGIN_LOCATION]: ref, [REGISTERED]: 'true' };
    if (traceId) annotations['pave.dev/trace-id'] = traceId;
    return {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Location',
      metadata: { name: `generated-${createHash('sha1').update(ref).digest('hex')}`, namespace: DEFAULT_NAMESPACE, annotations },
      spec: { type: l.type, target: l.target },
    };
  }

  list(): LocationInfo[] {
    const out: LocationInfo[] = [];
    for (const rec of this.index.all()) if (rec.entity.kind === 'Location' && this.isRegistered(rec.key)) out.push(this.info(rec.uid, rec.entity));
    return out;
  }

  private isRegistered(key: string): boolean {
    const rec = this.index.get(key);
    return !!rec && rec.resource.name.startsWith('generated-') && rec.entity.metadata.annotations?.[ANNOTATION_ORIGIN_LOCATION] === locationRef({ type: rec.entity.spec!.type, target: rec.entity.spec!.target });
  }

  private info(id: string, e: Entity): LocationInfo {
    return { id, type: e.spec!.type, target: e.spec!.target };
  }

  get(id: string): LocationInfo {
    const rec = this.index.getByUid(id);
    if (!rec || rec.entity.kind !== 'Location' || !this.isRegistered(rec.key)) throw new ApiError(404, 'NotFound', `Found no location with ID ${id}`);
    return this.info(rec.uid, rec.entity);
  }

  /**
   * Registers a location. With dryRun nothing is stored: the location is read and the entities
   * it would provide are returned, so a user sees mistakes before they land.
   */
  async add(type: string, target: string, opts: { dryRun?: boolean; traceId?: string } = {}): Promise<{ location: LocationInfo; entities: Entity[]; exists?: boolean }> {
    const l = this.normalise(type, target);
    const entity = this.entityFor(l, opts.traceId);
    const existing = this.index.get(entityRef(entity));
    if (opts.dryRun) {
      const read = await this.processor.read(entity);
      if (read.errors.length && !read.entities.length) throw ApiError.badRequest(`location ${locationRef(l)} could not be read: ${read.errors.map((e) => e.message).join('; ')}`);
      return { location: { id: existing?.uid ?? '', ...l }, entities: [entity, ...read.entities], exists: !!existing };
    }
    if (existing) throw new ApiError(409, 'Conflict', `Location ${locationRef(l)} already exists`);
    const resource = await this.client.create({ ...entity, apiVersion: LOCATION_API, metadata: { ...entity.metadata } } as Resource);
    return { location: { id: resource.metadata.uid!, ...l }, entities: [] };
  }

  async remove(id: string): Promise<void> {
    this.get(id);
    const rec = this.index.getByUid(id)!;
    try {
      await this.client.delete({ apiVersion: LOCATION_API, kind: 'Location', namespace: rec.resource.namespace, name: rec.resource.name });
    } catch (e) {
      if (!isApiError(e, 404)) throw e;
    }
  }

  /** Deletes one entity; if its location still provides it, the next refresh brings it back. */
  async deleteEntity(rec: IndexedEntity): Promise<void> {
    try {
      await this.client.delete({ apiVersion: rec.resource.apiVersion, kind: rec.resource.kind, namespace: rec.resource.namespace, name: rec.resource.name });
    } catch (e) {
      if (!isApiError(e, 404)) throw e;
    }
  }

  /** The registered location an entity came in through. */
  byEntity(ref: string): LocationInfo {
    const rec = this.index.get(ref);
    if (!rec) throw new ApiError(404, 'NotFound', `No entity ${ref} found`);
    const origin = rec.entity.metadata.annotations?.[ANNOTATION_ORIGIN_LOCATION];
    for (const l of this.list()) if (locationRef(l) === origin) return l;
    throw new ApiError(404, 'NotFound', `No location found for entity ${ref}`);
  }

  /** Re-reads the location that provides an entity (or the Location itself) now. */
  refresh(ref: string): void {
    const rec = this.index.get(ref);
    if (!rec) throw new ApiError(404, 'NotFound', `No entity ${ref} found`);
    const locKey = rec.entity.kind === 'Location' ? rec.key : rec.emittedBy;
    const loc = locKey ? this.index.get(locKey) : undefined;
    if (loc) this.queue()?.add(`${loc.resource.namespace}/${loc.resource.name}`);
  }
}

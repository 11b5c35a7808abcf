import { isApiError, isConflict, isNotFound } from '../api/errors.js';
import { jsonEqual } from '../api/equality.js';
import type { Resource } from '../api/types.js';
import type { Controller, ControllerContext, ControllerSpec, GVK, ReconcileResult } from '../runtime/controller.js';
import { getCondition, ready, Reason, setConditions, synced } from './conditions.js';
import { retryConflicts } from './conflicts.js';
import { compose, composedNames, COMPOSITION_RESOURCE_NAME, finishComposed, LABEL_COMPOSITE, type ComposeSources, type CompositionSpec } from './composition/composer.js';
import { connectionDigest, decodeSecretData } from './composition/connection.js';
import { publishConnectionSecret, readSecret } from './connection-secrets.js';
import type { ControlPlane } from './control-plane.js';
import type { ObservedResource } from './functions/types.js';
import { LABEL_COMPOSITION_NAME, revisionIndex } from './revisions.js';
import { composes, selectRevision } from './selection.js';
import { jsonClone } from '../api/clone.js';
import { PAUSED } from './managed-annotations.js';

const API = 'apiextensions.crossplane.io/v1';
/** How soon an XR whose pipeline read credentials or extra resources is composed again. */
const SOURCES_POLL_MS = 60_000;
/**
 * The message on a paused XR. Crossplane's reads "(including deletion)" because its XRs carry a
 * finalizer; Pave's XRs have none, so deleting a paused XR still deletes it and what it composed.
 */
const XR_PAUSED = 'Reconciliation is paused via the pause annotation';
export const COMPOSED_MANAGER = 'apiextensions.crossplane.io/composed';

/**
 * Reconciles the composite resources (XRs) of one XRD: selects a composition and revision
 * (recording both on the XR), runs it, applies the desired composed resources as a full
 * intent (whatever dropped out of desired state is deleted), publishes connection details
 * and derives Ready from the composed resources' readiness. A reconcile that finds every
 * input at the version its last complete run left behind stops before composing.
 */
export class CompositeReconciler {
  private controller?: Controller;
  private watched = new Set<string>();
  private published = new Map<string, string>();
  /**
   * Per XR, the versions of everything its last complete reconcile read and wrote (the XR, its
   * XRD, the revision, the composed resources). A reconcile that finds the same versions was
   * woken by its own writes and would compute the same result: it stops before composing.
   */
  private settled = new Map<string, string>();
  /** Reconciles that found nothing changed since the last complete one, for benchmarks. */
  skipped = 0;

  constructor(
    private readonly cp: ControlPlane,
    readonly gvk: GVK,
    private readonly xrdName: string,
  ) {}

  spec(): ControllerSpec {
    return {
      name: `composite/${this.gvk.kind.toLowerCase()}`,
      for: this.gvk,
      workers: 256,
      // its own status writes are not inputs: only spec, metadata and the watched objects are
      generationChangedOnly: true,
      watches: [{ apiVersion: API, kind: 'CompositionRevision', map: (rev) => this.xrsUsing(rev.metadata.labels?.[LABEL_COMPOSITION_NAME]) }],
      reconcile: (key, ctx) => retryConflicts(() => this.reconcile(key, ctx)),
    };
  }

  attach(c: Controller): void {
    this.controller = c;
    c.informer.addIndexer('composition', (o) => [o.spec?.compositionRef?.name ?? '']);
  }

  /** XRs to requeue when a composition's revisions change: its users and the undecided. */
  private xrsUsing(composition: string | undefined): string[] {
    if (!this.controller || !composition) return [];
    return [...this.controller.informer.byIndex('composition', composition), ...this.controller.informer.byIndex('composition', '')].map((o) => o.metadata.name!);
  }

  /** Composed kinds are only known from compositions: watch each the first time it is seen. */
  private watchComposed(ctx: ControllerContext, apiVersion: string, kind: string): void {
    const k = `${apiVersion}/${kind}`;
    if (this.watched.has(k) || !this.controller) return;
    this.watched.add(k);
    const queue = this.controller.queue;
    const mine = this.gvk;
    const toXr = (o: Resource) => {
      const ref = o.metadata.ownerReferences?.find((r) => r.controller && r.kind === mine.kind);
      if (ref) queue.add(ref.name);
      else if (o.metadata.labels?.[LABEL_COMPOSITE]) queue.add(o.metadata.labels[LABEL_COMPOSITE]);
    };
    ctx.informers.get(apiVersion, kind).addHandler({ onAdd: toXr, onUpdate: (a, b) => composedChanged(a, b) && toXr(b), onDelete: toXr });
  }

  async reconcile(key: string, ctx: ControllerContext): Promise<ReconcileResult | void> {
    const cached = this.controller?.informer.get(key) ?? ctx.informers.get(this.gvk.apiVersion, this.gvk.kind).get(key);
    if (!cached || cached.metadata.deletionTimestamp) {
      this.published.delete(key);
      this.settled.delete(key);
      return;
    }
    let xr = jsonClone(cached);
    if (xr.metadata.annotations?.[PAUSED] === 'true') {
      this.settled.delete(key);
      return void (await this.pause(ctx, xr));
    }
    const xrd = this.cp.xrd(this.xrdName);
    if (!xrd) return;
    const revInformer = ctx.informers.get(API, 'CompositionRevision');
    revisionIndex(revInformer);

    // 1. which composition and revision (recorded on the XR in step 4, before anything is applied)
    const choice = selectRevision(xr, xrd, ctx.informers.get(API, 'Composition').list(), revInformer);
    if ('error' in choice) return this.fail(ctx, xr, choice.reason, choice.error, choice.retry);
    const pinned = xr.spec.compositionRevisionRef?.name;
    const revName = choice.revision;
    const revision = revInformer.get(revName) ?? (await ctx.client.get({ apiVersion: API, kind: 'CompositionRevision', name: revName }).catch(() => undefined));
    if (!revision) return this.fail(ctx, xr, 'SelectCompositionRevision', `CompositionRevision "${revName}" (spec.compositionRevisionRef) not found`);
    const comp = revision.spec as CompositionSpec;
    if (!composes(revision, xr)) {
      const ref = comp.compositeTypeRef;
      return this.fail(ctx, xr, 'ComposeResources', `cannot configure composite resource: referenced composition is not compatible with this composite resource: Composition "${choice.composition}" has spec.compositeTypeRef ${ref?.apiVersion}/${ref?.kind}, not ${xr.apiVersion}/${xr.kind}`);
    }

    // 2. what exists now
    const observed: Record<string, ObservedResource> = {};
    const existing: Resource[] = [];
    const composedVersions: string[] = [];
    for (const ref of xr.spec.resourceRefs ?? []) {
      if (!ref.name) continue;
      this.watchComposed(ctx, ref.apiVersion, ref.kind);
      const o = await this.read(ctx, ref.apiVersion, ref.kind, ref.name, ref.namespace);
      composedVersions.push(`${ref.kind}/${ref.name}@${o?.metadata.resourceVersion ?? ''}`);
      if (!o) continue;
      if (!o.metadata.ownerReferences?.some((r) => r.controller && r.uid === xr.metadata.uid)) continue;
      existing.push(o);
    }
    const inputs = `${xrd.metadata.resourceVersion}|${revName}@${revision.metadata.resourceVersion}|`;
    if (this.settled.get(key) === `${inputs}${xr.metadata.resourceVersion}|${composedVersions.join(',')}`) {
      this.skipped++;
      return;
    }
    // whatever happens next, a retry must run in full
    this.settled.delete(key);
    for (const o of existing) {
      const name = o.metadata.annotations?.[COMPOSITION_RESOURCE_NAME];
      if (name) observed[name] = { resource: o, connectionDetails: await this.secretOf(ctx, o) };
    }

    // 3. what should exist
    const result = await compose({
      composite: xr,
      composition: comp,
      observed,
      functions: this.cp.functions,
      functionObject: (n) => this.cp.functionObject(n),
      sources: this.sources(ctx),
    });
    for (const e of result.events) ctx.recorder.event(xr, e.type, e.reason, e.message);
    if (result.fatal) return this.fail(ctx, xr, 'ComposeResources', result.fatal);

    // 4. what to record on the XR: the choice, the resources, and the status. All of it follows
    // from the composition and what was observed, so it is known before anything is applied.
    const names = composedNames(xr, result.resources, (t) => observed[t]?.resource.metadata.name);
    const desired = Object.entries(result.resources).map(([name, d]) => finishComposed(xr, name, d.resource, names.get(name)!));
    const dropped = existing.filter((o) => !desired.some((d) => d.kind === o.kind && d.metadata.name === o.metadata.name));
    // dropped resources stay referenced until they are gone, so a crash cannot lose track of them
    const refs = [...desired, ...dropped]
      .map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name!, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) }))
      .sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`));
    const status = jsonClone(xr.status ?? {});
    const desiredStatus = result.composite?.status;
    if (desiredStatus && typeof desiredStatus === 'object') {
      for (const [k, v] of Object.entries(desiredStatus)) if (k !== 'conditions') status[k] = v;
    }
    const unready = Object.entries(result.resources).filter(([, d]) => d.ready !== 'READY_TRUE').map(([n]) => n).sort();
    let published: string | undefined;
    try {
      published = await this.publish(ctx, xr, result.connectionDetails, xrd.spec.connectionSecretKeys, !unready.length);
    } catch (e) {
      // the Secret changed between the check and the write: the reconcile starts again
      if (isConflict(e)) throw e;
      return this.fail(ctx, xr, 'PublishConnectionSecret', `cannot publish connection details (spec.writeConnectionSecretToRef): ${(e as Error).message}`);
    }
    if (published) status.connectionDetails = { lastPublishedTime: published };
    setConditions(status, synced(true), unready.length ? ready('False', Reason.Creating, `Unready resources: ${listNames(unready)}`) : ready('True', Reason.Available));
    for (const c of result.conditions) {
      setConditions(status, { type: c.type, status: c.status === 'STATUS_CONDITION_TRUE' ? 'True' : c.status === 'STATUS_CONDITION_FALSE' ? 'False' : 'Unknown', reason: c.reason, message: c.message });
    }
    const forClaim = result.conditions.filter((c) => c.target === 'TARGET_COMPOSITE_AND_CLAIM').map((c) => c.type);
    if (forClaim.length) status.claimConditionTypes = [...new Set(forClaim)].sort();
    else delete status.claimConditionTypes;

    // 5. the choice and the resources are recorded before anything is applied, as Crossplane
    // records them, so that a crash cannot lose track of what it creates; the status goes in
    // the same write (a failed apply below replaces it with Synced=False)
    const recorded = xr.spec.compositionRef?.name === choice.composition && pinned === revName && JSON.stringify(refs) === JSON.stringify(xr.spec.resourceRefs ?? []);
    if (!recorded) xr = await ctx.client.updateWithStatus({ ...xr, spec: { ...xr.spec, compositionRef: { name: choice.composition }, compositionRevisionRef: { name: revName }, resourceRefs: refs }, status });
    const versionAfter = new Map(existing.map((o) => [`${o.kind}/${o.metadata.name}`, o.metadata.resourceVersion]));
    const refused: string[] = [];
    for (const obj of desired) {
      const name = obj.metadata.annotations![COMPOSITION_RESOURCE_NAME]!;
      this.watchComposed(ctx, obj.apiVersion, obj.kind);
      const { metadata: wantMeta, ...wantRest } = obj;
      const have = observed[name]?.resource;
      if (have && contains(have, wantRest) && contains(have.metadata, wantMeta)) continue;
      try {
        const applied = await ctx.client.apply(obj, { fieldManager: COMPOSED_MANAGER, force: true });
        versionAfter.set(`${obj.kind}/${obj.metadata.name}`, applied.metadata.resourceVersion);
      } catch (e) {
        const message = `cannot apply composed resource "${name}" (${obj.kind} ${obj.metadata.name}): ${(e as Error).message}`;
        // As Crossplane: a resource the API refuses as invalid may become valid once another is
        // applied, and must not hold the others back. It is reported, and the XR is not Synced.
        if (!isApiError(e, 422)) return this.fail(ctx, xr, 'ComposeResources', message);
        ctx.recorder.event(xr, 'Warning', 'ComposeResources', message);
        refused.push(message);
      }
    }
    for (const o of dropped) {
      await ctx.client.delete({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name!, namespace: o.metadata.namespace }).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
      ctx.recorder.event(xr, 'Normal', 'ComposeResources', `Deleted ${o.kind} ${o.metadata.name}: it is no longer in the desired state`);
    }
    if (refused.length) {
      setConditions(status, synced(false, refused.join('; ')));
      await this.writeStatus(ctx, xr, status);
      throw new Error(`${xr.kind} ${xr.metadata.name}: ${refused.join('; ')}`);
    }
    if (recorded) xr = await this.writeStatus(ctx, xr, status);
    // credentials and extra resources change without anything here changing: look again in a
    // while, as Crossplane polls its XRs, instead of treating the XR as settled
    if (result.readSources) return { requeueAfter: SOURCES_POLL_MS };
    if (!dropped.length && !result.events.length) {
      const after = refs.map((r) => `${r.kind}/${r.name}@${versionAfter.get(`${r.kind}/${r.name}`) ?? ''}`);
      this.settled.set(key, `${inputs}${xr.metadata.resourceVersion}|${after.join(',')}`);
    }
  }

  /** Where a pipeline's credentials and extra resources are read from: the API, as the control plane sees it. */
  private sources(ctx: ControllerContext): ComposeSources {
    return {
      secret: async (namespace, name) => {
        const s = await readSecret(ctx.client, namespace, name);
        return s && decodeSecretData((s.data ?? {}) as Record<string, string>);
      },
      select: async (sel) => {
        if (sel.matchName) {
          const o = await ctx.client.get({ apiVersion: sel.apiVersion, kind: sel.kind, name: sel.matchName, namespace: sel.namespace }).catch((e) => {
            if (isNotFound(e)) return undefined;
            throw e;
          });
          return o ? [o] : [];
        }
        const labelSelector = Object.entries(sel.matchLabels?.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
        return (await ctx.client.list(sel.apiVersion, sel.kind, { namespace: sel.namespace, labelSelector })).items;
      },
    };
  }

  private async read(ctx: ControllerContext, apiVersion: string, kind: string, name: string, namespace?: string): Promise<Resource | undefined> {
    const inf = ctx.informers.get(apiVersion, kind);
    if (inf.hasSynced()) {
      const hit = inf.get(namespace ? `${namespace}/${name}` : name);
      if (hit) return hit;
    }
    // a miss may be a resource created a moment ago: ask the store, so none is ever lost track of
    try {
      return await ctx.client.get({ apiVersion, kind, name, namespace });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private async secretOf(ctx: ControllerContext, o: Resource): Promise<Record<string, string> | undefined> {
    const ref = o.spec?.writeConnectionSecretToRef;
    if (!ref?.name) return undefined;
    const s = await readSecret(ctx.client, ref.namespace ?? o.metadata.namespace ?? 'default', ref.name);
    return s?.data ? decodeSecretData(s.data as Record<string, string>) : undefined;
  }

  /**
   * Writes the XR's connection secret when its content changed; returns the publish time. An XR
   * whose resources give no details still gets its Secret, empty, once it is Ready, as Crossplane
   * always writes one: an application that waits for the claim's Secret is not left waiting.
   * Before then an empty one would only be written again a moment later.
   */
  private async publish(ctx: ControllerContext, xr: Resource, details: Record<string, string>, keys: string[] | undefined, ready: boolean): Promise<string | undefined> {
    const ref = xr.spec.writeConnectionSecretToRef;
    if (!ref?.name || !ref.namespace || (!Object.keys(details).length && !ready)) return undefined;
    const data: Record<string, string> = {};
    for (const k of Object.keys(details).sort()) if (!keys?.length || keys.includes(k)) data[k] = Buffer.from(details[k]!, 'utf8').toString('base64');
    const digest = connectionDigest(ref, data);
    if (this.published.get(xr.metadata.name!) === digest) return undefined;
    const publishedAt = await publishConnectionSecret(ctx.client, xr, ref, data, COMPOSED_MANAGER);
    this.published.set(xr.metadata.name!, digest);
    return publishedAt;
  }

  /** Writes the status if it changed; returns the XR as stored. */
  private async writeStatus(ctx: ControllerContext, xr: Resource, status: Record<string, any>): Promise<Resource> {
    if (jsonEqual(status, xr.status ?? {})) return xr;
    return ctx.client.updateStatus({ ...xr, status });
  }

  /** Synced=False ReconcilePaused: nothing is composed, applied or deleted until the annotation goes. */
  private async pause(ctx: ControllerContext, xr: Resource): Promise<void> {
    if (getCondition(xr, 'Synced')?.reason === Reason.ReconcilePaused) return;
    ctx.recorder.event(xr, 'Normal', 'ReconciliationPaused', 'Reconciliation is paused via the pause annotation');
    const status = jsonClone(xr.status ?? {});
    setConditions(status, { type: 'Synced', status: 'False', reason: Reason.ReconcilePaused, message: XR_PAUSED });
    await this.writeStatus(ctx, xr, status);
  }

  /** Synced=False with the reason, and a Warning Event; throwing retries with backoff. */
  private async fail(ctx: ControllerContext, xr: Resource, reason: string, message: string, retry = true): Promise<void> {
    const status = jsonClone(xr.status ?? {});
    setConditions(status, synced(false, message));
    if (!getCondition(xr, 'Ready')) setConditions(status, ready('False', Reason.Creating));
    ctx.recorder.event(xr, 'Warning', reason, message);
    await this.writeStatus(ctx, xr, status);
    if (retry) throw new Error(`${xr.kind} ${xr.metadata.name}: ${message}`);
  }
}

/** Changes of a composed resource that can change its XR: readiness, spec, deletion, status fields patched back. */
function composedChanged(a: Resource, b: Resource): boolean {
  if (a.metadata.generation !== b.metadata.generation || a.metadata.deletionTimestamp !== b.metadata.deletionTimestamp) return true;
  const { conditions: ca, ...restA } = a.status ?? {};
  const { conditions: cb, ...restB } = b.status ?? {};
  const brief = (cs: { type: string; status: string; reason?: string }[] | undefined) => JSON.stringify((cs ?? []).map((c) => [c.type, c.status, c.reason]));
  return brief(ca) !== brief(cb) || !jsonEqual(restA, restB);
}

/** Whether every field `want` sets has that value in `have` (so applying `want` changes nothing). */
function contains(have: unknown, want: unknown): boolean {
  if (want === null || typeof want !== 'object') return have === want;
  if (Array.isArray(want)) return Array.isArray(have) && have.length === want.length && want.every((w, i) => contains(have[i], w));
  if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
  return Object.entries(want).every(([k, v]) => contains((have as Record<string, unknown>)[k], v));
}

/** Sorted names as Crossplane lists them in conditions: "a", "a, b", "a, b, and c", "a, b, c, and 2 more". */
export function listNames(names: string[]): string {
  const sorted = [...names].sort();
  const first = 3;
  if (sorted.length > first) return `${sorted.slice(0, first).join(', ')}, and ${sorted.length - first} more`;
  if (sorted.length === first) return `${sorted.slice(0, first - 1).join(', ')}, and ${sorted[first - 1]}`;
  return sorted.join(', ');
}

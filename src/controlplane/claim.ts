import { randomUUID } from 'node:crypto';
import { jsonEqual } from '../api/equality.js';
import { isApiError, isConflict, isNotFound } from '../api/errors.js';
import type { Condition, Resource } from '../api/types.js';
import type { ControllerContext, ControllerSpec, GVK, ReconcileResult } from '../runtime/controller.js';
import { getCondition, ready, Reason, setConditions, synced } from './conditions.js';
import { retryConflicts } from './conflicts.js';
import { generatedName, LABEL_CLAIM_NAME, LABEL_CLAIM_NAMESPACE } from './composition/composer.js';
import { connectionDigest } from './composition/connection.js';
import { publishConnectionSecret, readSecret } from './connection-secrets.js';
import { revisionIndex } from './revisions.js';
import { selectRevision } from './selection.js';
import type { Xrd } from './xrd-crds.js';
import { jsonClone } from '../api/clone.js';
import { PAUSED } from './managed-annotations.js';
import { xrMetadataFromClaim } from './claim-metadata.js';

export const CLAIM_FINALIZER = 'finalizer.apiextensions.crossplane.io';

/**
 * Where the random part of a claim's XR name comes from: five hex digits of a random UUID
 * (randomUUID draws from a buffered pool, where randomBytes asks the system on every call).
 * Replaceable so that tests can make names collide.
 */
export const xrNameSuffix = { next: (): string => randomUUID().slice(0, 5) };

const CROSSPLANE_API = 'apiextensions.crossplane.io/v1';
/** Where composites of claims keep their connection secrets before they are copied to the claim. */
export const SYSTEM_NAMESPACE = 'pave-system';
const CLAIM_ONLY = ['resourceRef', 'writeConnectionSecretToRef', 'compositeDeletePolicy'];
const XR_CHOICES = ['compositionRef', 'compositionRevisionRef'];
/** XR status fields that are Crossplane's machinery, not the user's: not copied to the claim. */
const XR_STATUS_MACHINERY = ['conditions', 'connectionDetails', 'claimConditionTypes'];
const ARGOCD_TRACKING_ID = 'argocd.argoproj.io/tracking-id';
const CLAIM_PAUSED = 'Reconciliation (including deletion) is paused via the pause annotation';
/** A claim's Ready until its XR is ready, as Crossplane words it. */
const WAITING = ready('False', Reason.Waiting, 'Claim is waiting for composite resource to become Ready');
/** The labels every XR of a claim carries, whatever the claim's own labels. */
const CLAIM_LABELS = [LABEL_CLAIM_NAME, LABEL_CLAIM_NAMESPACE];
const XR_OWNED = [...XR_CHOICES, 'resourceRefs', 'compositionUpdatePolicy', 'environmentConfigRefs'];

/**
 * Binds claims to composite resources as Crossplane does: the claim records
 * spec.resourceRef before the XR is created (so a crash cannot create two), the XR carries
 * spec.claimRef and the crossplane.io/claim-name/-namespace labels, the claim's spec flows to
 * the XR, and the XR's status, readiness and connection secret flow back. Deleting the claim
 * deletes the XR with spec.compositeDeletePolicy (Background unless set).
 *
 * The binding write also records the composition and revision the new XR will select (the
 * same pure selection the XR uses), so the claim's spec is written once, not again when the
 * XR reports its choice.
 */
export class ClaimReconciler {
  /**
   * Per claim, the claim and XR versions its last complete reconcile ended with. A reconcile
   * that finds both unchanged was woken by its own writes and has nothing to do. Memory only:
   * after a restart every claim is reconciled in full once.
   */
  private settled = new Map<string, string>();
  /** Per claim, the secret content last copied to it: the copy is not read back while the source still matches. */
  private copied = new Map<string, string>();
  /** Reconciles that found nothing changed since the last complete one, for benchmarks. */
  skipped = 0;

  constructor(
    readonly gvk: GVK,
    private readonly xrGvk: GVK,
    private readonly xrdName: string,
  ) {}

  spec(): ControllerSpec {
    return {
      name: `claim/${this.gvk.kind.toLowerCase()}`,
      for: this.gvk,
      workers: 256,
      // its own status writes are not inputs: only spec, metadata and the XR are
      generationChangedOnly: true,
      watches: [
        {
          ...this.xrGvk,
          map: (xr) => {
            const ref = xr.spec?.claimRef;
            return ref?.name && ref.kind === this.gvk.kind ? [`${ref.namespace}/${ref.name}`] : [];
          },
          changed: xrChangedForClaim,
        },
      ],
      reconcile: (key, ctx) => retryConflicts(() => this.reconcile(key, ctx)),
    };
  }

  async reconcile(key: string, ctx: ControllerContext): Promise<ReconcileResult | void> {
    const cached = ctx.informers.get(this.gvk.apiVersion, this.gvk.kind).get(key);
    if (!cached) {
      this.settled.delete(key);
      this.copied.delete(key);
      return;
    }
    const xrCached = cached.spec?.resourceRef?.name ? ctx.informers.get(this.xrGvk.apiVersion, this.xrGvk.kind).get(cached.spec.resourceRef.name) : undefined;
    if (this.settled.get(key) === versions(cached, xrCached)) {
      this.skipped++;
      return;
    }
    // whatever happens next, a retry must run in full
    this.settled.delete(key);
    let claim = jsonClone(cached);
    const meta = claim.metadata;

    // before deletion: a paused claim keeps its finalizer, so deleting it waits too
    if (meta.annotations?.[PAUSED] === 'true') return this.pause(ctx, claim);
    if (meta.deletionTimestamp) return this.finalize(ctx, claim);
    // the finalizer and the XR's name are persisted before the XR exists, so a crash cannot make two
    if (!meta.finalizers?.includes(CLAIM_FINALIZER) || !claim.spec.resourceRef?.name) {
      const resourceRef = claim.spec.resourceRef?.name ? claim.spec.resourceRef : { apiVersion: this.xrGvk.apiVersion, kind: this.xrGvk.kind, name: this.freeXrName(ctx, meta.name!) };
      const spec = { ...claim.spec, resourceRef };
      // the choices a new XR will make are recorded now, in the same write, instead of copied back from it later
      if (!claim.spec.resourceRef?.name) Object.assign(spec, this.expectedChoices(ctx, claim));
      const bound = { ...claim, metadata: { ...meta, finalizers: [...new Set([...(meta.finalizers ?? []), CLAIM_FINALIZER])] }, spec };
      if (claim.status?.conditions?.length) claim = await ctx.client.update(bound);
      else {
        // a new claim waits for its XR from the start, and says so in the same write
        const status = { ...(claim.status ?? {}) };
        setConditions(status, synced(true), WAITING);
        claim = await ctx.client.updateWithStatus({ ...bound, status });
      }
    }
    const xrName: string = claim.spec.resourceRef.name;
    // a name chosen a moment ago (random, and not yet used for a create) names no XR: nothing to read
    let xr = xrName === cached.spec?.resourceRef?.name ? await this.getXr(ctx, xrName) : undefined;
    const want = this.xrSpec(claim, xr);
    const xrMeta = xrMetadataFromClaim(this.xrGvk.apiVersion, xr, this.xrLabels(claim), this.xrAnnotations(claim), CLAIM_LABELS);
    if (!xr) {
      try {
        xr = await ctx.client.create({
          apiVersion: this.xrGvk.apiVersion,
          kind: this.xrGvk.kind,
          metadata: { name: xrName, labels: xrMeta.labels, ...(Object.keys(xrMeta.annotations).length ? { annotations: xrMeta.annotations } : {}), ...(xrMeta.managedFields ? { managedFields: xrMeta.managedFields } : {}) },
          spec: want,
        });
      } catch (e) {
        // A name chosen a moment ago, taken by an XR the cache had not seen yet: this claim has
        // created nothing under it, so it may choose another. (A name the user gave is kept.)
        if (isApiError(e, 409) && e.reason === 'AlreadyExists' && xrName !== cached.spec?.resourceRef?.name) {
          const resourceRef = { ...claim.spec.resourceRef, name: this.freeXrName(ctx, meta.name!) };
          await ctx.client.update({ ...claim, spec: { ...claim.spec, resourceRef } });
          return;
        }
        return this.fail(ctx, claim, `cannot create composite resource ${xrName}: ${(e as Error).message}`);
      }
    } else {
      const bound = xr.spec?.claimRef;
      if (bound?.name && (bound.name !== claim.metadata.name || bound.namespace !== claim.metadata.namespace)) {
        return this.fail(ctx, claim, `composite resource ${xrName} is already bound to claim ${bound.namespace}/${bound.name}`, false);
      }
      const metaChanged = !jsonEqual(xrMeta.labels, xr.metadata.labels ?? {}) || !jsonEqual(xrMeta.annotations, xr.metadata.annotations ?? {}) || xrMeta.managedFields !== xr.metadata.managedFields;
      if (!jsonEqual(want, xr.spec) || metaChanged) {
        const { annotations: _a, managedFields: _m, ...rest } = xr.metadata;
        const metadata = { ...rest, labels: xrMeta.labels, ...(Object.keys(xrMeta.annotations).length ? { annotations: xrMeta.annotations } : {}), ...(xrMeta.managedFields ? { managedFields: xrMeta.managedFields } : {}) };
        xr = await ctx.client.update({ ...xr, metadata, spec: want });
      }
    }

    // the XR's choices (composition, revision) are shown on the claim, as Crossplane does
    const spec = { ...claim.spec };
    const automatic = (xr.spec?.compositionUpdatePolicy ?? 'Automatic') === 'Automatic';
    for (const f of XR_CHOICES) if (xr.spec?.[f] && (!spec[f] || (automatic && f === 'compositionRevisionRef'))) spec[f] = xr.spec[f];
    if (!jsonEqual(spec, claim.spec)) claim = await ctx.client.update({ ...claim, spec });

    // the claim shows the XR's own status fields (removals included), beside its own conditions and publication time
    const status: Record<string, any> = {};
    for (const [k, v] of Object.entries(xr.status ?? {})) if (!XR_STATUS_MACHINERY.includes(k)) status[k] = jsonClone(v);
    if (claim.status?.conditions) status.conditions = jsonClone(claim.status.conditions);
    if (claim.status?.connectionDetails) status.connectionDetails = jsonClone(claim.status.connectionDetails);
    const xrSynced = getCondition(xr, 'Synced');
    setConditions(
      status,
      xrSynced?.status === 'False' ? synced(false, `composite resource ${xrName}: ${xrSynced.message ?? xrSynced.reason}`) : synced(true),
      // as Crossplane: the claim is Available once its XR is, and Waiting until then
      getCondition(xr, 'Ready')?.status === 'True' ? ready('True', Reason.Available) : WAITING,
    );
    // conditions a function addressed to the claim (TARGET_COMPOSITE_AND_CLAIM) are shown on it
    const extra = ((xr.status?.conditions ?? []) as Condition[]).filter((c) => (xr.status?.claimConditionTypes ?? []).includes(c.type) && c.type !== 'Ready' && c.type !== 'Synced');
    if (extra.length) setConditions(status, ...extra);
    let publishedAt: string | undefined;
    try {
      publishedAt = await this.copySecret(ctx, claim, xr);
    } catch (e) {
      // the Secret changed between the check and the write: the reconcile starts again
      if (isConflict(e)) throw e;
      return this.fail(ctx, claim, `cannot propagate connection details (spec.writeConnectionSecretToRef): ${(e as Error).message}`, true, 'PropagateConnectionSecret');
    }
    if (publishedAt) status.connectionDetails = { lastPublishedTime: publishedAt };
    if (!jsonEqual(status, claim.status ?? {})) claim = await ctx.client.updateStatus({ ...claim, status });
    this.settled.set(key, versions(claim, xr));
  }

  private async finalize(ctx: ControllerContext, claim: Resource): Promise<ReconcileResult | void> {
    if (!claim.metadata.finalizers?.includes(CLAIM_FINALIZER)) return;
    const name = claim.spec?.resourceRef?.name;
    const xr = name ? await this.getXr(ctx, name) : undefined;
    if (xr && xr.spec?.claimRef?.name === claim.metadata.name && xr.spec?.claimRef?.namespace === claim.metadata.namespace) {
      const policy = claim.spec.compositeDeletePolicy ?? this.defaultDeletePolicy(ctx) ?? 'Background';
      if (!xr.metadata.deletionTimestamp) {
        await ctx.client.delete({ apiVersion: xr.apiVersion, kind: xr.kind, name: xr.metadata.name! }, { propagationPolicy: policy }).catch((e) => {
          if (!isNotFound(e)) throw e;
        });
      }
      if (policy === 'Foreground') {
        const status = jsonClone(claim.status ?? {});
        setConditions(status, ready('False', Reason.Deleting, `waiting for composite resource ${name} and its resources to be deleted`));
        if (!jsonEqual(status, claim.status ?? {})) await ctx.client.updateStatus({ ...claim, status }).catch(() => undefined);
        return { requeueAfter: 1000 };
      }
    }
    await ctx.client
      .update({ ...claim, metadata: { ...claim.metadata, finalizers: claim.metadata.finalizers.filter((f) => f !== CLAIM_FINALIZER) } })
      .catch((e) => {
        if (!isNotFound(e)) throw e;
      });
  }

  /** The composition and revision a new XR for the claim will select, when it can select one. */
  private expectedChoices(ctx: ControllerContext, claim: Resource): Record<string, { name: string }> {
    const xrd = ctx.informers.get(CROSSPLANE_API, 'CompositeResourceDefinition').get(this.xrdName) as Xrd | undefined;
    if (!xrd) return {};
    const revisions = ctx.informers.get(CROSSPLANE_API, 'CompositionRevision');
    revisionIndex(revisions);
    const choice = selectRevision({ ...claim, apiVersion: this.xrGvk.apiVersion, kind: this.xrGvk.kind }, xrd, ctx.informers.get(CROSSPLANE_API, 'Composition').list(), revisions);
    return 'error' in choice ? {} : { compositionRef: { name: choice.composition }, compositionRevisionRef: { name: choice.revision } };
  }

  private defaultDeletePolicy(ctx: ControllerContext): string | undefined {
    return ctx.informers.get('apiextensions.crossplane.io/v1', 'CompositeResourceDefinition').get(this.xrdName)?.spec?.defaultCompositeDeletePolicy;
  }

  private xrSpec(claim: Resource, xr: Resource | undefined): Record<string, any> {
    // fields the XR decides keep their value; everything else follows the claim, removals included
    const spec: Record<string, any> = {};
    for (const f of XR_OWNED) if (xr?.spec?.[f] !== undefined) spec[f] = xr.spec[f];
    const automatic = (claim.spec?.compositionUpdatePolicy ?? xr?.spec?.compositionUpdatePolicy ?? 'Automatic') === 'Automatic';
    for (const [k, v] of Object.entries(claim.spec ?? {})) {
      // under Automatic the XR follows the latest revision; the claim's copy only reports it
      if (CLAIM_ONLY.includes(k) || (automatic && k === 'compositionRevisionRef' && spec[k])) continue;
      spec[k] = v;
    }
    spec.claimRef = { apiVersion: this.gvk.apiVersion, kind: this.gvk.kind, namespace: claim.metadata.namespace!, name: claim.metadata.name! };
    if (claim.spec?.writeConnectionSecretToRef?.name) spec.writeConnectionSecretToRef = { namespace: SYSTEM_NAMESPACE, name: claim.metadata.uid! };
    return spec;
  }

  private xrLabels(claim: Resource): Record<string, string> {
    const labels = Object.fromEntries(Object.entries(claim.metadata.labels ?? {}).filter(([k]) => !kubernetesReserved(k)));
    return { ...labels, [LABEL_CLAIM_NAME]: claim.metadata.name!, [LABEL_CLAIM_NAMESPACE]: claim.metadata.namespace! };
  }

  /**
   * The claim's annotations, except Kubernetes' own (kubectl's last-applied-configuration and the
   * like), as Crossplane propagates them. Argo CD's tracking id is kept back too: sync ignores a
   * copy that names another object, but the live state indexes objects by the app name in it, so
   * every status change of the XR would wake its claim's Application for nothing.
   */
  private xrAnnotations(claim: Resource): Record<string, string> {
    return Object.fromEntries(Object.entries(claim.metadata.annotations ?? {}).filter(([k]) => !kubernetesReserved(k) && k !== ARGOCD_TRACKING_ID));
  }

  /** Synced=False ReconcilePaused: the XR is neither created, updated nor deleted until the annotation goes. */
  private async pause(ctx: ControllerContext, claim: Resource): Promise<void> {
    if (getCondition(claim, 'Synced')?.reason === Reason.ReconcilePaused) return;
    ctx.recorder.event(claim, 'Normal', 'ReconciliationPaused', CLAIM_PAUSED);
    const status = jsonClone(claim.status ?? {});
    setConditions(status, { type: 'Synced', status: 'False', reason: Reason.ReconcilePaused, message: CLAIM_PAUSED });
    await ctx.client.updateStatus({ ...claim, status });
  }

  /**
   * A name for a claim's new XR: the claim's name, a dash and five random hex digits, as the
   * generateName Crossplane uses gives (see generatedName), and not the name of an XR that exists. Claims of the same name in many
   * namespaces (every team's "db") would otherwise meet one another's XR names: a thousand of
   * them make a collision more likely than not.
   */
  private freeXrName(ctx: ControllerContext, claimName: string): string {
    const xrs = ctx.informers.get(this.xrGvk.apiVersion, this.xrGvk.kind);
    let name: string;
    do name = generatedName(`${claimName}-`, xrNameSuffix.next());
    while (xrs.get(name));
    return name;
  }

  private async getXr(ctx: ControllerContext, name: string): Promise<Resource | undefined> {
    const hit = ctx.informers.get(this.xrGvk.apiVersion, this.xrGvk.kind).get(name);
    if (hit) return jsonClone(hit);
    try {
      return await ctx.client.get({ apiVersion: this.xrGvk.apiVersion, kind: this.xrGvk.kind, name });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Copies the XR's connection secret into the claim's namespace; returns when it changed. */
  private async copySecret(ctx: ControllerContext, claim: Resource, xr: Resource): Promise<string | undefined> {
    const to = claim.spec?.writeConnectionSecretToRef?.name;
    const from = xr.spec?.writeConnectionSecretToRef;
    if (!to || !from?.name || !xr.status?.connectionDetails?.lastPublishedTime) return undefined;
    const source = await readSecret(ctx.client, from.namespace, from.name);
    if (!source) return undefined;
    const key = `${claim.metadata.namespace}/${claim.metadata.name}`;
    const publication = connectionDigest(to, source.data ?? {});
    if (this.copied.get(key) === publication && claim.status?.connectionDetails?.lastPublishedTime) return undefined;
    const publishedAt = await publishConnectionSecret(ctx.client, claim, { namespace: claim.metadata.namespace!, name: to }, source.data ?? {}, 'apiextensions.crossplane.io/claim');
    this.copied.set(key, publication);
    return publishedAt;
  }

  private async fail(ctx: ControllerContext, claim: Resource, message: string, retry = true, reason = 'BindCompositeResource'): Promise<void> {
    const status = jsonClone(claim.status ?? {});
    setConditions(status, synced(false, message));
    ctx.recorder.event(claim, 'Warning', reason, message);
    if (!jsonEqual(status, claim.status ?? {})) await ctx.client.updateStatus({ ...claim, status }).catch(() => undefined);
    if (retry) throw new Error(`${claim.kind} ${claim.metadata.namespace}/${claim.metadata.name}: ${message}`);
  }
}

/**
 * Whether an XR update can change what its claim's reconcile does. The XR's own record of its
 * composed resources (spec.resourceRefs) is the one spec field the claim neither sets nor shows,
 * and the XR writes it on its first reconcile, so without this filter every claim would run once
 * more for nothing.
 */
function xrChangedForClaim(a: Resource, b: Resource): boolean {
  if (a.metadata.deletionTimestamp !== b.metadata.deletionTimestamp || !jsonEqual(a.metadata.labels, b.metadata.labels) || !jsonEqual(a.status, b.status)) return true;
  if (a.metadata.generation === b.metadata.generation) return false;
  const { resourceRefs: _ra, ...specA } = a.spec ?? {};
  const { resourceRefs: _rb, ...specB } = b.spec ?? {};
  return !jsonEqual(specA, specB);
}

/** Whether a label or annotation key is in a Kubernetes-reserved domain (*.kubernetes.io, *.k8s.io). */
function kubernetesReserved(key: string): boolean {
  const domain = key.includes('/') ? key.split('/')[0]! : '';
  return domain.endsWith('kubernetes.io') || domain.endsWith('k8s.io');
}

/** The versions of a claim and its XR that a reconcile read: what decides whether it has work. */
function versions(claim: Resource, xr: Resource | undefined): string {
  return `${claim.metadata.resourceVersion}/${xr?.metadata.resourceVersion ?? ''}`;
}

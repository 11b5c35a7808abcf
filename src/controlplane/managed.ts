import type { Logger } from 'pino';
import type { Client } from '../api/client.js';
import type { Condition } from '../api/types.js';
import { isConflict, isNotFound } from '../api/errors.js';
import { jsonEqual } from '../api/equality.js';
import type { ControllerContext, ControllerSpec, ReconcileResult } from '../runtime/controller.js';
import type { Informer } from '../runtime/informer.js';
import { getCondition, ready, Reason, setConditions, synced } from './conditions.js';
import { retryConflicts } from './conflicts.js';
import { connectionDigest } from './composition/connection.js';
import { publishConnectionSecret } from './connection-secrets.js';
import { ConnectionCache } from './provider-connections.js';
import { CREATE_FAILED, CREATE_PENDING, CREATE_SUCCEEDED, createPending, EXTERNAL_NAME, FINALIZER, PAUSED, POLL_INTERVAL, stamp } from './managed-annotations.js';
import { parseDuration } from '../api/duration.js';
import type { ExternalClient, ExternalObservation, ManagedKind, ManagedResource, Provider } from './provider.js';
import { jsonClone } from '../api/clone.js';
import { ManagementPolicies } from './management-policies.js';

/** The longest a batch poll waits for the controller's backlog to clear. */
const BUSY_POLL_MS = 10_000;

export interface ManagedReconcilerOptions {
  /** How often a resource is observed when its provider has no observeMany (default 10 s). */
  pollIntervalMs?: number;
  /** How often a batch of resources is observed with observeMany (default 1 s). */
  batchPollIntervalMs?: number;
  /** Most resources in one observeMany call. */
  batchSize?: number;
  workers?: number;
}

/**
 * The generic managed resource reconciler: crossplane-runtime's lifecycle over any provider's
 * ExternalClient. Read top to bottom, `reconcile` is the lifecycle: pause, delete, finalizer
 * and external name, connect, resolve a create left pending by a crash, observe, create,
 * publish connection details, late-initialise, update, report.
 *
 * Crash safety: the crossplane.io/external-create-pending annotation is persisted before
 * create and create-succeeded after it. A reconcile that finds pending without a later
 * outcome observes first: if the external resource exists, the create happened; if not and
 * the external name was chosen before create (the default: metadata.name), creating again is
 * safe; only when the backend chooses names is the outcome unknowable, and then the resource
 * waits for a human, as in Crossplane.
 *
 * Polling: kinds whose client has observeMany are polled in batches (one backend call per
 * provider config per interval, stretched when a poll is expensive) and only drifted resources
 * are queued; others requeue themselves after the poll interval with ±10% jitter.
 *
 * Work per resource: the finalizer, external name and create-pending annotation go in one
 * write, status is written only when it changed, and a reconcile woken only by the
 * reconciler's own writes (the resourceVersion it last left behind) stops before observing.
 */
export class ManagedReconciler {
  private readonly pollMs: number;
  private readonly batchMs: number;
  private readonly batchSize: number;
  private informer?: Informer;
  private queueKey?: (key: string) => void;
  private pollTimer?: NodeJS.Timeout;
  private lastPolled = new Map<string, number>();
  private publishedSecrets = new Map<string, string>();
  private usages = new Set<string>();
  private polling = false;
  private backlog: () => number = () => 0;
  /** When the last batch poll started (ms since the epoch). */
  private lastBatchPoll = 0;
  private stopped = false;
  private noUsageType = false;
  /**
   * Per resource, the resourceVersion its last complete reconcile ended with (batch-polled kinds
   * only). A reconcile that finds that version was woken by its own writes: the backend was
   * observed a moment ago and nothing asked for another look. Polls and drift go through `due`.
   */
  private settled = new Map<string, number>();
  /** Resources a poll wants observed, whatever their version. */
  private due = new Set<string>();
  /**
   * Resources whose last batch observe failed (the backend was unreachable): each was reconciled
   * once to report Synced=False and then retries on its own backoff, until a batch observe
   * succeeds again and wakes it at once.
   */
  private batchFailed = new Set<string>();
  /** Reconciles that found nothing changed since the last complete one, for benchmarks. */
  skipped = 0;
  /** Backend calls made by batch polls, for benchmarks. */
  batchCalls = 0;

  constructor(
    private readonly provider: Provider,
    private readonly kind: ManagedKind,
    private readonly connections: ConnectionCache,
    private readonly log: Logger,
    opts: ManagedReconcilerOptions = {},
  ) {
    this.pollMs = opts.pollIntervalMs ?? 10_000;
    this.batchMs = opts.batchPollIntervalMs ?? 1000;
    this.batchSize = opts.batchSize ?? 50_000;
    this.workers = opts.workers ?? kind.maxConcurrentReconciles ?? 64;
  }

  private readonly workers: number;

  spec(): ControllerSpec {
    return {
      name: `managed/${this.kind.kind.toLowerCase()}.${this.kind.apiVersion.split('/')[0]}`,
      for: { apiVersion: this.kind.apiVersion, kind: this.kind.kind },
      workers: this.workers,
      queue: { baseDelayMs: 1000, maxDelayMs: 60_000, qps: 500, burst: 2000 },
      generationChangedOnly: true,
      reconcile: (key, ctx) => retryConflicts(() => this.reconcile(key, ctx)),
    };
  }

  /** Starts batch polling; `enqueue` puts a key on the controller's queue, `backlog` counts the keys waiting there. */
  startPolling(informer: Informer, enqueue: (key: string) => void, backlog: () => number): void {
    this.informer = informer;
    this.queueKey = enqueue;
    this.backlog = backlog;
    this.schedulePoll(this.batchMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
  }

  async reconcile(key: string, ctx: ControllerContext): Promise<ReconcileResult | void> {
    const informer = (this.informer ??= ctx.informers.get(this.kind.apiVersion, this.kind.kind));
    const cached = informer.get(key) as ManagedResource | undefined;
    if (!cached) {
      this.forget(key);
      return;
    }
    const settledAt = this.settled.get(key);
    if (settledAt !== undefined && Number(cached.metadata.resourceVersion) <= settledAt && !this.due.has(key)) {
      this.skipped++;
      return;
    }
    // whatever happens next, a retry must run in full
    this.settled.delete(key);
    this.due.delete(key);
    let mr = jsonClone(cached);
    const meta = mr.metadata;
    const policy = new ManagementPolicies(mr);

    if (meta.annotations?.[PAUSED] === 'true' || policy.paused()) {
      if (getCondition(mr, 'Synced')?.reason !== Reason.ReconcilePaused) {
        ctx.recorder.event(mr, 'Normal', 'ReconciliationPaused', 'Reconciliation is paused either through the `spec.managementPolicies` or the pause annotation');
      }
      return void (await this.writeStatus(ctx.client, mr, [{ type: 'Synced', status: 'False', reason: Reason.ReconcilePaused }]));
    }

    const invalid = policy.unsupported();
    if (invalid) {
      ctx.recorder.event(mr, 'Warning', 'CannotUseInvalidManagementPolicy', invalid);
      return void (await this.writeStatus(ctx.client, mr, [synced(false, invalid)]));
    }

    if (meta.deletionTimestamp) return this.finalize(mr, ctx, policy.deletesExternal());

    // the finalizer and the external name are set here and persisted (together with
    // create-pending when a create follows) before anything changes the backend
    const unpersisted = !meta.finalizers?.includes(FINALIZER) || !meta.annotations?.[EXTERNAL_NAME];
    if (unpersisted) {
      meta.finalizers = [...new Set([...(meta.finalizers ?? []), FINALIZER])];
      meta.annotations = { ...(meta.annotations ?? {}), [EXTERNAL_NAME]: meta.annotations?.[EXTERNAL_NAME] || meta.name! };
    }

    let ext: ExternalClient;
    try {
      ext = await this.connect(mr, ctx.client);
    } catch (e) {
      return this.fail(ctx, mr, 'CannotConnectToProvider', `connect failed: ${(e as Error).message}`);
    }

    let obs: ExternalObservation;
    try {
      obs = await ext.observe(mr);
    } catch (e) {
      return this.fail(ctx, mr, 'CannotObserveExternalResource', `observe failed: ${(e as Error).message}`);
    }

    // observing a resource that is not there is the one thing an observe-only resource can get wrong
    if (!obs.resourceExists && policy.onlyObserve()) {
      if (unpersisted) mr = await ctx.client.update(mr);
      return this.fail(ctx, mr, 'CannotObserveExternalResource', 'observe failed: external resource does not exist');
    }

    if (createPending(mr)) {
      if (obs.resourceExists) {
        mr = await this.annotate(ctx.client, mr, { [CREATE_SUCCEEDED]: stamp() });
      } else if (this.kind.externalNameAssignedByProvider) {
        const message = `cannot determine creation result - remove the ${CREATE_PENDING} annotation if it is safe to proceed`;
        ctx.recorder.event(mr, 'Warning', 'CannotInitializeManagedResource', message);
        await this.writeStatus(ctx.client, mr, [ready('False', Reason.Creating), synced(false, message)]);
        return;
      }
    }

    /** Annotations set in memory that the next status write must store with it. */
    let metadataUnsaved = false;
    if (!obs.resourceExists) {
      if (!policy.allows('Create')) {
        if (unpersisted) mr = await ctx.client.update(mr);
        await this.writeStatus(ctx.client, mr, [ready('False', Reason.Unavailable, 'the external resource does not exist and managementPolicies do not allow Create'), synced(true)]);
        return this.pollResult(mr);
      }
      mr = await this.annotate(ctx.client, mr, { [CREATE_PENDING]: stamp() });
      let created;
      try {
        // initProvider fields apply at creation only, under whatever forProvider sets
        const init = mr.spec.initProvider;
        created = await ext.create(init ? { ...mr, spec: { ...mr.spec, forProvider: { ...init, ...mr.spec.forProvider } } } : mr);
      } catch (e) {
        mr = await this.annotate(ctx.client, mr, { [CREATE_FAILED]: stamp() }).catch(() => mr);
        return this.fail(ctx, mr, 'CannotCreateExternalResource', `create failed: ${(e as Error).message}`, ready('False', Reason.Creating));
      }
      const after: Record<string, string> = { [CREATE_SUCCEEDED]: stamp() };
      if (created.externalName) after[EXTERNAL_NAME] = created.externalName;
      // A name the backend chose exists nowhere else: it is written at once. A name of our own
      // (already stored) is found again by observing, should the process stop before the next
      // write, so create-succeeded goes with this reconcile's status, one write instead of two.
      if (this.kind.externalNameAssignedByProvider || (created.externalName && created.externalName !== mr.metadata.annotations?.[EXTERNAL_NAME])) {
        mr = await this.annotate(ctx.client, mr, after);
      } else {
        mr = withAnnotations(mr, after);
        metadataUnsaved = true;
      }
      ctx.recorder.event(mr, 'Normal', 'CreatedExternalResource', 'Successfully requested creation of external resource');
      await this.publish(ctx, mr, created.connectionDetails, ready('False', Reason.Creating));
      // most backends answer at once; observing now saves a round through the queue
      try {
        obs = await ext.observe(mr);
      } catch {
        obs = { resourceExists: false, resourceUpToDate: false };
      }
      if (!obs.resourceExists) {
        await this.writeStatus(ctx.client, mr, [ready('False', Reason.Creating), synced(true)], undefined, metadataUnsaved);
        return { requeueAfter: 1000 };
      }
    } else if (unpersisted) {
      mr = await ctx.client.update(mr);
    }

    await this.publish(ctx, mr, obs.connectionDetails);

    if (obs.lateInitialized && policy.allows('LateInitialize')) {
      const forProvider = { ...mr.spec.forProvider };
      let changed = false;
      for (const [k, v] of Object.entries(obs.lateInitialized)) {
        if (forProvider[k] === undefined && v !== undefined) {
          forProvider[k] = v;
          changed = true;
        }
      }
      if (changed) {
        mr = await ctx.client.update({ ...mr, spec: { ...mr.spec, forProvider } });
        metadataUnsaved = false;
      }
    }

    if (!obs.resourceUpToDate && policy.allows('Update')) {
      let upd;
      try {
        upd = await ext.update(mr);
      } catch (e) {
        return this.fail(ctx, mr, 'CannotUpdateExternalResource', `update failed: ${(e as Error).message}`);
      }
      ctx.recorder.event(mr, 'Normal', 'UpdatedExternalResource', `Successfully requested update of external resource${obs.diff ? `: ${obs.diff}` : ''}`);
      await this.publish(ctx, mr, upd.connectionDetails);
    }

    mr = await this.writeStatus(ctx.client, mr, observedConditions(obs), obs.atProvider, metadataUnsaved);
    this.lastPolled.set(key, Date.now());
    const poll = this.pollResult(mr, obs.changesAfterMs);
    if (!poll) this.settled.set(key, Number(mr.metadata.resourceVersion));
    return poll;
  }

  /** Deletion: orphan or delete the external resource, then let the object go. */
  private async finalize(mr: ManagedResource, ctx: ControllerContext, deletesExternal: boolean): Promise<ReconcileResult | void> {
    if (!mr.metadata.finalizers?.includes(FINALIZER)) return;
    if (deletesExternal) {
      let ext: ExternalClient;
      try {
        ext = await this.connect(mr, ctx.client);
      } catch (e) {
        return this.fail(ctx, mr, 'CannotConnectToProvider', `connect failed: ${(e as Error).message}`, ready('False', Reason.Deleting));
      }
      let obs: ExternalObservation;
      try {
        obs = await ext.observe(mr);
      } catch (e) {
        return this.fail(ctx, mr, 'CannotObserveExternalResource', `observe failed: ${(e as Error).message}`, ready('False', Reason.Deleting));
      }
      if (obs.resourceExists) {
        try {
          await ext.delete(mr);
        } catch (e) {
          return this.fail(ctx, mr, 'CannotDeleteExternalResource', `delete failed: ${(e as Error).message}`, ready('False', Reason.Deleting));
        }
        ctx.recorder.event(mr, 'Normal', 'DeletedExternalResource', 'Successfully requested deletion of external resource');
        // most backends answer at once; observing now saves a round through the queue
        const again = await ext.observe(mr).catch(() => obs);
        if (again.resourceExists) {
          await this.writeStatus(ctx.client, mr, [ready('False', Reason.Deleting), synced(true)]);
          return { requeueAfter: 1000 };
        }
      }
    }
    const next = jsonClone(mr);
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
    try {
      await ctx.client.update(next);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    this.forget(mr.metadata.name!);
  }

  private forget(key: string): void {
    this.lastPolled.delete(key);
    this.publishedSecrets.delete(key);
    this.settled.delete(key);
    this.due.delete(key);
    this.batchFailed.delete(key);
  }

  /**
   * When to observe the resource again: after its poll interval, with jitter, or sooner when the
   * observation said it changes by itself sooner. Batch polls observe every Ready resource of a
   * kind that has them, so such a resource waits for those instead; one that is not Ready is
   * left out of them, and keeps being observed on its own.
   */
  private pollResult(mr: ManagedResource, changesAfterMs?: number): ReconcileResult | void {
    const batched = this.connections.peekBatched(this.kind) && getCondition(mr, 'Ready')?.status === 'True';
    const soon = changesAfterMs === undefined ? undefined : Math.ceil(changesAfterMs) + CHANGE_MARGIN_MS;
    if (batched) return soon === undefined ? undefined : { requeueAfter: soon };
    const interval = parseDuration(mr.metadata.annotations?.[POLL_INTERVAL]) ?? this.pollMs;
    const poll = Math.round(interval * (0.9 + Math.random() * 0.2));
    return { requeueAfter: soon === undefined ? poll : Math.min(poll, soon) };
  }

  private async connect(mr: ManagedResource, client: Client): Promise<ExternalClient> {
    const ext = await this.connections.connect(this.provider, this.kind, mr.spec.providerConfigRef?.name);
    await this.trackUsage(client, mr);
    return ext;
  }

  /** A ProviderConfigUsage per resource using an existing ProviderConfig, so it is not deleted under it. */
  private async trackUsage(client: Client, mr: ManagedResource): Promise<void> {
    const pc = this.provider.providerConfig;
    if (!pc) return;
    const pcName = mr.spec.providerConfigRef?.name ?? 'default';
    const id = `${mr.metadata.uid}/${pcName}`;
    if (this.usages.has(id)) return;
    // without a ProviderConfig object there is nothing whose deletion a usage could hold
    if (!(await this.connections.configExists(this.provider, pcName))) return;
    if (this.noUsageType) return;
    await client.apply(
      {
        apiVersion: pc.apiVersion,
        kind: 'ProviderConfigUsage',
        metadata: {
          name: mr.metadata.uid!,
          labels: { 'crossplane.io/provider-config': pcName },
          ownerReferences: [{ apiVersion: mr.apiVersion, kind: mr.kind, name: mr.metadata.name!, uid: mr.metadata.uid!, controller: true }],
        },
        providerConfigRef: { name: pcName },
        resourceRef: { apiVersion: mr.apiVersion, kind: mr.kind, name: mr.metadata.name },
      },
      { fieldManager: 'managed.crossplane.io', force: true },
    ).catch((e) => {
      // a provider without a ProviderConfigUsage kind simply does not track usage
      if (isNotFound(e) && /no kind/.test((e as Error).message)) this.noUsageType = true;
      else throw e;
    });
    this.usages.add(id);
    if (this.usages.size > 200_000) this.usages.clear();
  }

  private async annotate(client: Client, mr: ManagedResource, annotations: Record<string, string>): Promise<ManagedResource> {
    // the client copies what it sends; only the annotations change here
    return client.update(withAnnotations(mr, annotations));
  }

  /**
   * Writes connection details to spec.writeConnectionSecretToRef, skipping unchanged ones. A
   * Secret that cannot be written (its namespace is missing, say) is Synced=False with why.
   */
  private async publish(ctx: ControllerContext, mr: ManagedResource, details: Record<string, string> | undefined, readyCond?: ReturnType<typeof ready>): Promise<void> {
    const ref = mr.spec.writeConnectionSecretToRef;
    if (!ref?.name || !details || !Object.keys(details).length) return;
    const data: Record<string, string> = {};
    for (const k of Object.keys(details).sort()) data[k] = Buffer.from(details[k]!, 'utf8').toString('base64');
    const digest = connectionDigest(ref.namespace, ref.name, data);
    if (this.publishedSecrets.get(mr.metadata.name!) === digest) return;
    const namespace = ref.namespace || 'default';
    try {
      await publishConnectionSecret(ctx.client, mr, { namespace, name: ref.name }, data, 'managed.crossplane.io');
    } catch (e) {
      // the Secret changed between the check and the write: the reconcile starts again
      if (isConflict(e)) throw e;
      return this.fail(ctx, mr, 'CannotPublishConnectionDetails', `cannot publish connection details to Secret ${namespace}/${ref.name} (spec.writeConnectionSecretToRef): ${(e as Error).message}`, readyCond);
    }
    this.publishedSecrets.set(mr.metadata.name!, digest);
  }

  private async fail(ctx: ControllerContext, mr: ManagedResource, reason: string, message: string, readyCond?: ReturnType<typeof ready>): Promise<never> {
    ctx.recorder.event(mr, 'Warning', reason, message);
    await this.writeStatus(ctx.client, mr, readyCond ? [readyCond, synced(false, message)] : [synced(false, message)]).catch(() => undefined);
    throw new Error(`${mr.kind} ${mr.metadata.name}: ${message}`);
  }

  /** Writes the status if it changed (with the object, when it has unsaved changes); returns the resource as stored. */
  private async writeStatus(client: Client, mr: ManagedResource, conds: ReturnType<typeof synced>[], atProvider?: Record<string, unknown>, withObject = false): Promise<ManagedResource> {
    const status = jsonClone(mr.status ?? {});
    setConditions(status, ...conds);
    if (atProvider) status.atProvider = atProvider;
    if (withObject) return client.updateWithStatus({ ...mr, status });
    if (jsonEqual(status, mr.status ?? {})) return mr;
    return client.updateStatus({ ...mr, status });
  }

  /**
   * The next batch poll starts one interval after the last one ended, or later when polls grow
   * expensive (many thousands of resources): never sooner than four times the last poll's
   * duration, so that polling takes at most a fifth of the process while claims are being created.
   */
  private schedulePoll(afterMs: number): void {
    if (this.stopped) return;
    this.pollTimer = setTimeout(() => {
      // Work waiting behind busy workers (a burst of creates) comes first: a poll would only
      // queue more, and every resource in that backlog is about to be observed anyway. Drift
      // waits, but never longer than BUSY_POLL_MS.
      if (this.backlog() > this.workers && Date.now() - this.lastBatchPoll < BUSY_POLL_MS) return this.schedulePoll(this.batchMs);
      this.lastBatchPoll = Date.now();
      const started = performance.now();
      void this.pollBatch().finally(() => this.schedulePoll(Math.max(this.batchMs, 4 * (performance.now() - started))));
    }, afterMs);
    this.pollTimer.unref();
  }

  /** One observeMany per provider config; queues only the resources that drifted or vanished. */
  private async pollBatch(): Promise<void> {
    if (this.polling || !this.informer || !this.queueKey) return;
    if (!this.connections.peekBatched(this.kind)) return;
    this.polling = true;
    try {
      const nowMs = Date.now();
      const groups = new Map<string, ManagedResource[]>();
      for (const o of this.informer.list() as ManagedResource[]) {
        const a = o.metadata.annotations ?? {};
        if (o.metadata.deletionTimestamp || a[PAUSED] === 'true' || new ManagementPolicies(o).paused() || !a[CREATE_SUCCEEDED] || getCondition(o, 'Ready')?.status !== 'True') continue;
        // a resource observed by its own reconcile within the last half interval (a burst of creates) waits for the next poll
        const interval = parseDuration(a[POLL_INTERVAL]);
        if (nowMs - (this.lastPolled.get(o.metadata.name!) ?? 0) < (interval ?? this.batchMs / 2)) continue;
        const pc = o.spec.providerConfigRef?.name ?? '';
        let g = groups.get(pc);
        if (!g) groups.set(pc, (g = []));
        g.push(o);
      }
      for (const [pc, mrs] of groups) {
        for (let i = 0; i < mrs.length; i += this.batchSize) {
          const batch = mrs.slice(i, i + this.batchSize);
          this.batchCalls++;
          let results: ExternalObservation[];
          try {
            const ext = await this.connections.connect(this.provider, this.kind, pc || undefined);
            results = await ext.observeMany!(batch);
          } catch (err) {
            this.log.warn({ err: (err as Error).message, kind: this.kind.kind, resources: batch.length }, 'batch observe failed');
            for (const mr of batch) {
              if (this.batchFailed.has(mr.metadata.name!)) continue;
              this.batchFailed.add(mr.metadata.name!);
              this.due.add(mr.metadata.name!);
              this.queueKey!(mr.metadata.name!);
            }
            continue;
          }
          batch.forEach((mr, j) => {
            const r = results[j];
            this.lastPolled.set(mr.metadata.name!, nowMs);
            const canUpdate = new ManagementPolicies(mr).allows('Update');
            const recovered = this.batchFailed.delete(mr.metadata.name!);
            if (!r || !r.resourceExists || (!r.resourceUpToDate && canUpdate) || r.ready === false || recovered) {
              this.due.add(mr.metadata.name!);
              this.queueKey!(mr.metadata.name!);
            }
          });
        }
      }
    } catch (err) {
      this.log.warn({ err, kind: this.kind.kind }, 'batch observe failed; resources will be observed one by one on their next reconcile');
    } finally {
      this.polling = false;
    }
  }
}

/** A scheduled change is observed this long after it is due, so that it has happened by then. */
const CHANGE_MARGIN_MS = 20;

/**
 * The conditions an observation of an existing resource sets: Ready from `ready`, Synced=True,
 * and the provider's own, whose Ready replaces the first.
 */
function observedConditions(obs: ExternalObservation): Condition[] {
  const conds: Condition[] = [obs.ready === false ? ready('False', Reason.Unavailable) : ready('True', Reason.Available), synced(true)];
  for (const c of obs.conditions ?? []) {
    if (c.type === 'Synced') continue;
    const i = conds.findIndex((x) => x.type === c.type);
    if (i >= 0) conds[i] = c;
    else conds.push(c);
  }
  return conds;
}

/** `mr` with `annotations` added, sharing everything else. */
function withAnnotations(mr: ManagedResource, annotations: Record<string, string>): ManagedResource {
  return { ...mr, metadata: { ...mr.metadata, annotations: { ...(mr.metadata.annotations ?? {}), ...annotations } } };
}

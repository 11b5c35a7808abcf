import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { Client } from '../api/client.js';
import { isConflict, isNotFound } from '../api/errors.js';
import type { Condition, Resource } from '../api/types.js';
import { GIT_API_VERSION, repositoryObjectName } from './crds.js';
import { ZERO_SHA } from './git.js';
import type { BareRepositories } from './repositories.js';

export interface PushEvent {
  ref: string;
  before: string;
  after: string;
  changedPaths: string[];
  time: string;
}

/**
 * The Git host's link between bare repositories on disk and the GitRepository objects that
 * announce them. `publish` is the single place a ref change becomes visible to the rest of
 * Pave: it compares the refs on disk with status.refs, so a push, a merge, a restart after a
 * crash or a missed event all converge on the same status.
 */
export class GitHost {
  private locks = new Map<string, Promise<unknown>>();

  constructor(
    readonly repos: BareRepositories,
    private readonly client: Client,
    private readonly log: Logger,
    private readonly baseUrl: () => string,
    private readonly globalWebhook?: string,
  ) {}

  cloneUrl(owner: string, repo: string): string {
    return `${this.baseUrl()}/git/${owner}/${repo}.git`;
  }

  /** Runs `fn` with the repository's lock held: ref updates of one repository are serialised. */
  withLock<T>(owner: string, repo: string, fn: () => Promise<T>): Promise<T> {
    const key = `${owner}/${repo}`;
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(key, tail);
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    });
    return next;
  }

  /** Brings status.refs and status.lastPush of the repository's object up to date with the disk. */
  async publish(owner: string, repo: string): Promise<PushEvent | undefined> {
    const name = repositoryObjectName(owner, repo);
    for (let attempt = 0; attempt < 5; attempt++) {
      let obj: Resource;
      try {
        obj = await this.client.get({ apiVersion: GIT_API_VERSION, kind: 'GitRepository', name });
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
      const refs = await this.repos.refs(owner, repo);
      const known: Record<string, string> = obj.status?.refs ?? {};
      const changed = [...new Set([...Object.keys(refs), ...Object.keys(known)])].filter((r) => refs[r] !== known[r]);
      const url = this.cloneUrl(owner, repo);
      const defaultBranch = obj.spec.defaultBranch ?? 'main';
      if (!changed.length && obj.status?.url === url && obj.status?.defaultBranch === defaultBranch) return undefined;
      let push: PushEvent | undefined;
      if (changed.length) {
        // one push may move several refs; the default branch is what most watchers follow
        const ref = changed.find((r) => r === `refs/heads/${defaultBranch}`) ?? changed[0]!;
        const before = known[ref] ?? ZERO_SHA;
        const after = refs[ref] ?? ZERO_SHA;
        push = { ref, before, after, changedPaths: await this.repos.changedPaths(owner, repo, before, after).catch(() => []), time: new Date().toISOString() };
      }
      const status = { ...(obj.status ?? {}), url, defaultBranch, refs, ...(push ? { lastPush: push } : {}) };
      status.conditions = setCondition(status.conditions, { type: 'Ready', status: 'True', reason: 'Available', message: `serving ${url}` });
      try {
        await this.client.updateStatus({ ...obj, status });
      } catch (e) {
        if (isConflict(e)) continue;
        throw e;
      }
      if (push) {
        this.log.info({ repository: `${owner}/${repo}`, ref: push.ref, before: push.before, after: push.after, paths: push.changedPaths.length }, 'ref updated');
        void this.sendWebhooks(obj, owner, repo, push);
      }
      return push;
    }
    return undefined;
  }

  /** Outgoing webhooks in the shape of a GitHub push event, signed when a secret is configured. */
  private async sendWebhooks(obj: Resource, owner: string, repo: string, push: PushEvent): Promise<void> {
    const hooks: { url: string; secretRef?: { name: string; namespace?: string; key?: string } }[] = [...(obj.spec.webhooks ?? [])];
    if (this.globalWebhook) hooks.push({ url: this.globalWebhook });
    if (!hooks.length) return;
    const body = JSON.stringify({
      ref: push.ref,
      before: push.before,
      after: push.after,
      repository: { name: repo, full_name: `${owner}/${repo}`, clone_url: this.cloneUrl(owner, repo), default_branch: obj.spec.defaultBranch ?? 'main' },
      commits: [{ id: push.after, modified: push.changedPaths, added: [], removed: [] }],
      head_commit: { id: push.after, modified: push.changedPaths },
    });
    for (const hook of hooks) {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-github-event': 'push', 'x-pave-event': 'push' };
      try {
        if (hook.secretRef) {
          const secret = await this.client.get({ apiVersion: 'v1', kind: 'Secret', namespace: hook.secretRef.namespace ?? 'pave-system', name: hook.secretRef.name });
          const key = Buffer.from(secret.data?.[hook.secretRef.key ?? 'secret'] ?? '', 'base64').toString('utf8');
          headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
        }
        const res = await fetch(hook.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
        if (!res.ok) this.log.warn({ repository: `${owner}/${repo}`, webhook: hook.url, code: res.status }, 'webhook rejected');
      } catch (err) {
        this.log.warn({ repository: `${owner}/${repo}`, webhook: hook.url, err: (err as Error).message }, 'webhook failed');
      }
    }
  }
}

/** Sets a condition, keeping lastTransitionTime when the status does not change. */
export function setCondition(conditions: Condition[] | undefined, c: Condition): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((x) => x.type === c.type);
  const prev = i >= 0 ? list[i] : undefined;
  const next = { ...c, lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : new Date().toISOString() };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

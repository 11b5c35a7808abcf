import { timestamp as now } from '../api/timestamp.js';
import type { Condition, Resource } from '../api/types.js';

/**
 * Crossplane's condition vocabulary. Ready says whether the thing is usable; Synced says
 * whether the last reconcile succeeded. Reasons are Crossplane's, so dashboards and Argo CD's
 * health checks that match on them keep working.
 */
export const Reason = {
  Available: 'Available',
  Unavailable: 'Unavailable',
  Creating: 'Creating',
  Deleting: 'Deleting',
  /** A claim whose composite resource is not Ready yet. */
  Waiting: 'Waiting',
  ReconcileSuccess: 'ReconcileSuccess',
  ReconcileError: 'ReconcileError',
  ReconcilePaused: 'ReconcilePaused',
  WatchingComposite: 'WatchingCompositeResource',
  TerminatingComposite: 'TerminatingCompositeResource',
  WatchingClaim: 'WatchingCompositeResourceClaim',
  TerminatingClaim: 'TerminatingCompositeResourceClaim',
} as const;

export function ready(status: Condition['status'], reason: string, message?: string): Condition {
  return message ? { type: 'Ready', status, reason, message } : { type: 'Ready', status, reason };
}

export function synced(ok: boolean, message?: string): Condition {
  return ok ? { type: 'Synced', status: 'True', reason: Reason.ReconcileSuccess } : { type: 'Synced', status: 'False', reason: Reason.ReconcileError, message };
}

export function getCondition(obj: Resource | undefined, type: string): Condition | undefined {
  return (obj?.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
}

export function isTrue(obj: Resource | undefined, type: string): boolean {
  return getCondition(obj, type)?.status === 'True';
}

/**
 * Sets conditions on `status`, keeping lastTransitionTime when the status did not change so
 * that an unchanged object stays byte-identical (and the write can be skipped).
 */
export function setConditions(status: Record<string, any>, ...conds: Condition[]): void {
  const list: Condition[] = Array.isArray(status.conditions) ? [...status.conditions] : [];
  for (const c of conds) {
    const i = list.findIndex((x) => x.type === c.type);
    const prev = i >= 0 ? list[i] : undefined;
    const next: Condition = { ...c, lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : now() };
    if (!next.message) delete next.message;
    if (i >= 0) list[i] = next;
    else list.push(next);
  }
  status.conditions = list;
}

/** The time conditions are stamped with. */
export { timestamp as now } from '../api/timestamp.js';

import type { Resource } from '../api/types.js';

/**
 * The annotations and finalizer through which the managed reconciler keeps its promises across
 * crashes and through which users steer it, with Crossplane's names.
 */
export const FINALIZER = 'finalizer.managedresource.crossplane.io';
export const EXTERNAL_NAME = 'crossplane.io/external-name';
export const CREATE_PENDING = 'crossplane.io/external-create-pending';
export const CREATE_SUCCEEDED = 'crossplane.io/external-create-succeeded';
export const CREATE_FAILED = 'crossplane.io/external-create-failed';
export const PAUSED = 'crossplane.io/paused';
export const POLL_INTERVAL = 'crossplane.io/poll-interval';

/** Millisecond timestamps, so that pending and its outcome order correctly within one second. */
export function stamp(): string {
  return new Date().toISOString();
}

export function createPending(mr: Resource): boolean {
  const a = mr.metadata.annotations ?? {};
  const pending = a[CREATE_PENDING];
  if (!pending) return false;
  const succeeded = a[CREATE_SUCCEEDED];
  const failed = a[CREATE_FAILED];
  return !(succeeded && succeeded >= pending) && !(failed && failed >= pending);
}

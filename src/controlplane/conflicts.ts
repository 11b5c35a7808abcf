import { isConflict } from '../api/errors.js';

/**
 * A write that lost an optimistic-concurrency race is not a failure: the newer object is
 * already on its way through the informer, so the key is retried at once instead of backing off.
 */
export async function retryConflicts<T>(fn: () => Promise<T | void>): Promise<T | { requeueAfter: number } | void> {
  try {
    return await fn();
  } catch (e) {
    if (isConflict(e)) return { requeueAfter: 5 };
    throw e;
  }
}

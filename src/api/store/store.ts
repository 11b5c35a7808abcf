import type { Requirement } from '../selectors.js';
import type { ObjectKey, Resource } from '../types.js';

export interface StoreListOptions {
  namespace?: string;
  labels?: Requirement[];
  /** Only metadata.name and metadata.namespace are guaranteed to be pushed down; the rest filter after load. */
  fields?: Requirement[];
  limit?: number;
  /** The continue token of the previous page. */
  continue?: string;
}

export interface StoreListResult {
  items: Resource[];
  /** The store revision the list was read at. */
  revision: number;
  continue?: string;
}

export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  revision: number;
  group: string;
  resource: string;
  namespace: string;
  /** The object after the change (for DELETED: its last state). Shared: never mutate it. */
  object: Resource;
  /** For MODIFIED and DELETED: the object before the change. Shared: never mutate it. */
  previous?: Resource;
}

export interface StoreWatchOptions {
  /** Deliver events after this revision; throws a 410 Gone ApiError if it was compacted. */
  fromRevision?: number;
  group?: string;
  resource?: string;
  namespace?: string;
}

/**
 * The storage contract, kept small so that each backend is easy to get right
 * (the shape of kine: a revisioned log of whole objects).
 *
 * - Every successful write gets a new revision, a single increasing integer shared by all
 *   types, and the stored object's metadata.resourceVersion is that revision as a string. A
 *   write that fails may leave a gap (as a failed etcd transaction does): clients compare
 *   revisions, they do not count them.
 * - `update` and `delete` with an expected revision fail with 409 Conflict if the object moved on.
 * - A write is durable when its promise resolves: a crash afterwards does not lose it.
 * - `watch` delivers every committed write after `fromRevision`, in revision order, without gaps,
 *   or throws 410 Gone when that revision is older than the store still remembers.
 * - Objects returned by get and list are the caller's to mutate. The object a write returns is
 *   the stored one, shared with the read cache and with watchers' events, and frozen: callers
 *   copy it before changing it.
 * The store does no admission, defaulting or validation: that is the ResourceService's job.
 */
export interface Store {
  revision(): number;
  compactedRevision(): number;
  get(key: ObjectKey): Promise<Resource | undefined>;
  /**
   * Optional: the stored object without a copy, for readers that only look at it (the
   * service reading the current object before a write). Shared: never mutate it.
   */
  getShared?(key: ObjectKey): Promise<Resource | undefined>;
  /**
   * Optional: the stored JSON text of a plaintext object, for readers that only forward it
   * (an HTTP GET), sparing a parse and a serialisation. Undefined when absent or encrypted.
   */
  getText?(key: ObjectKey): Promise<string | undefined>;
  list(group: string, resource: string, opts?: StoreListOptions): Promise<StoreListResult>;
  count(group: string, resource: string, namespace?: string): Promise<number>;
  create(key: ObjectKey, obj: Resource): Promise<Resource>;
  /**
   * `previous`, when given, must be the stored object at `expectedRevision` (the caller just read
   * it); the store then need not decode it again for the MODIFIED event.
   */
  update(key: ObjectKey, obj: Resource, expectedRevision?: number, previous?: Resource): Promise<Resource>;
  /** `previous`, as for update: the stored object at `expectedRevision`, for the DELETED event. */
  delete(key: ObjectKey, expectedRevision?: number, previous?: Resource): Promise<Resource>;
  /** Keys of the objects that list `ownerUid` in their ownerReferences. */
  dependents(ownerUid: string): Promise<ObjectKey[]>;
  /** Owner uids that some object references but no stored object has: work the garbage collector missed. */
  missingOwners(): Promise<string[]>;
  findByUid(uid: string): Promise<{ key: ObjectKey; object: Resource } | undefined>;
  watch(opts: StoreWatchOptions, onEvent: (e: StoreEvent) => void): () => void;
  /**
   * Optional: `listener` is called once if the store stops being able to serve before it is
   * closed (its database thread died). Every call after that fails with the same error.
   */
  onFailure?(listener: (e: Error) => void): void;
  close(): Promise<void>;
}

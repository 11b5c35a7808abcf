import type { Logger } from 'pino';
import type { Client } from '../api/client.js';
import type { Condition, Resource } from '../api/types.js';

/**
 * The provider extension point of the control plane: the shape of crossplane-runtime's
 * ExternalConnecter and ExternalClient. Providers (src/providers/<name>) implement it and
 * import nothing else from the control plane. The managed reconciler owns the lifecycle
 * (conditions, external-name, create-pending annotations, deletion policy, polling, backoff);
 * a provider only talks to its backend.
 */

/** A managed resource as Crossplane shapes it. */
export interface ManagedResource extends Resource {
  spec: {
    forProvider: Record<string, any>;
    initProvider?: Record<string, any>;
    providerConfigRef?: { name: string };
    deletionPolicy?: 'Delete' | 'Orphan';
    managementPolicies?: ('*' | 'Observe' | 'Create' | 'Update' | 'Delete' | 'LateInitialize')[];
    writeConnectionSecretToRef?: { name: string; namespace: string };
    [field: string]: any;
  };
}

/** Connection details are plain strings here; the reconciler base64-encodes them into the Secret. */
export type ConnectionDetails = Record<string, string>;

export interface ExternalObservation {
  resourceExists: boolean;
  /** False makes the reconciler call update. */
  resourceUpToDate: boolean;
  /** Written to status.atProvider. */
  atProvider?: Record<string, unknown>;
  connectionDetails?: ConnectionDetails;
  /** Fields of spec.forProvider the backend defaulted, for late initialisation. */
  lateInitialized?: Record<string, unknown>;
  /** A short human-readable description of what is not up to date. */
  diff?: string;
  /**
   * Whether the external resource is usable. Undefined or true sets Ready=True (Available);
   * false sets Ready=False (Unavailable) and the resource is observed again on the next poll.
   */
  ready?: boolean;
  /**
   * Conditions of the provider's own to set on the managed resource, as a Crossplane provider's
   * Observe sets them. One of type Ready replaces the one `ready` decides; Synced stays the
   * reconciler's.
   */
  conditions?: Condition[];
  /**
   * The observation changes by itself after this many milliseconds (a scheduled transition):
   * the resource is observed again then, sooner than its poll interval if need be.
   */
  changesAfterMs?: number;
}

export interface ExternalCreation {
  /** Set when the backend, not the user, chose the name; stored as crossplane.io/external-name. */
  externalName?: string;
  connectionDetails?: ConnectionDetails;
}

export interface ExternalUpdate {
  connectionDetails?: ConnectionDetails;
}

/**
 * Talks to one backend for one managed kind. Every method receives the managed resource with
 * its crossplane.io/external-name annotation already set.
 */
export interface ExternalClient {
  /** Reports whether the external resource exists and is up to date. Must not change it. */
  observe(mr: ManagedResource): Promise<ExternalObservation>;
  /** Creates the external resource. Must be idempotent: it may be retried after a crash. */
  create(mr: ManagedResource): Promise<ExternalCreation>;
  /** Makes the external resource match spec.forProvider. */
  update(mr: ManagedResource): Promise<ExternalUpdate>;
  /** Deletes the external resource; deleting one that is already gone is not an error. */
  delete(mr: ManagedResource): Promise<void>;
  /**
   * Optional: observes many resources in one backend call (one catalog query, one ACL LIST).
   * Returns one observation per input, in the same order.
   */
  observeMany?(mrs: ManagedResource[]): Promise<ExternalObservation[]>;
  /** Releases connections; called when the ProviderConfig changes or the platform stops. */
  disconnect?(): Promise<void>;
}

export interface ProviderContext {
  client: Client;
  log: Logger;
  /** Reads a Secret key (decoded from base64); throws an error naming the Secret if missing. */
  readSecretKey(ref: { name: string; namespace: string; key: string }): Promise<string>;
}

export interface ManagedKind {
  apiVersion: string;
  kind: string;
  /**
   * True when the backend, not the managed resource's name, chooses the external name (returned
   * by create). A create interrupted by a crash then cannot be safely retried, so the resource
   * waits with Synced=False for a human, as in Crossplane. False (the default): the external name
   * defaults to metadata.name and a retried create is safe.
   */
  externalNameAssignedByProvider?: boolean;
  /**
   * How many resources of this kind are reconciled at once (default 64): what the backend
   * takes without its own contention turning into errors and backoff, as a Crossplane
   * provider's --max-reconcile-rate. 100 PostgreSQL claims at once were Ready in 6 s with 64
   * and in 25 s with 256, while an in-memory backend can take more.
   */
  maxConcurrentReconciles?: number;
  /**
   * Connects using the ProviderConfig named by spec.providerConfigRef (default `default`;
   * undefined when the provider has no ProviderConfig kind or no `default` exists). The result is
   * cached per ProviderConfig resourceVersion and reused by every resource of the kind.
   */
  connect(providerConfig: Resource | undefined, ctx: ProviderContext): Promise<ExternalClient>;
}

export interface Provider {
  /** e.g. `provider-sql`, `provider-nop`. */
  name: string;
  /** CustomResourceDefinitions the provider serves: its ProviderConfig kinds and managed kinds. */
  crds: Resource[];
  managed: ManagedKind[];
  /**
   * The kind of this provider's ProviderConfig, as apiVersion/kind. When `crds` also defines a
   * `ProviderConfigUsage` kind in the same group, the control plane records one usage per managed
   * resource and holds a ProviderConfig's deletion (finalizer in-use.crossplane.io) while it has users.
   */
  providerConfig?: { apiVersion: string; kind: string };
}

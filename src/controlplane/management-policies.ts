import type { ManagedResource } from './provider.js';

/** What a managed resource's spec.managementPolicies may name. */
export type Policy = '*' | 'Observe' | 'Create' | 'Update' | 'Delete' | 'LateInitialize';

/**
 * The managementPolicies combinations crossplane-runtime accepts; any other set is refused with
 * Synced=False rather than guessed at. The empty set pauses the resource, like crossplane.io/paused.
 */
const SUPPORTED_POLICIES: Policy[][] = [
  ['*'],
  ['Observe', 'Create', 'Update', 'LateInitialize', 'Delete'],
  ['Observe'],
  [],
  ['Observe', 'Create', 'Update', 'Delete'],
  ['Observe', 'Create', 'Update', 'LateInitialize'],
  ['Observe', 'Create', 'Update'],
  ['Observe', 'Create', 'Delete', 'LateInitialize'],
  ['Observe', 'Create', 'LateInitialize'],
  ['Observe', 'Create', 'Delete'],
  ['Observe', 'Create'],
  ['Observe', 'Delete'],
];

/**
 * What spec.managementPolicies and spec.deletionPolicy together allow, by crossplane-runtime's
 * rules. It reads the list as it is (a handful of entries, repeats allowed) and builds nothing:
 * the batch poll asks it of every resource every interval.
 */
export class ManagementPolicies {
  private readonly list: readonly Policy[];

  constructor(private readonly mr: ManagedResource) {
    this.list = (mr.spec.managementPolicies ?? ['*']) as Policy[];
  }

  /** The error to report for a combination crossplane-runtime does not support, if this is one. */
  unsupported(): string | undefined {
    const set = new Set(this.list);
    if (SUPPORTED_POLICIES.some((s) => s.length === set.size && s.every((p) => set.has(p)))) return undefined;
    return `\`spec.managementPolicies\` is set to a value([${[...set].join(' ')}]) which is not supported. Check docs for supported policies`;
  }

  paused(): boolean {
    return this.list.length === 0;
  }

  allows(p: Policy): boolean {
    return this.list.includes('*') || this.list.includes(p);
  }

  onlyObserve(): boolean {
    return this.only('Observe');
  }

  /**
   * Whether deleting the object deletes the external resource. Where the two fields disagree the
   * one set to a non-default value wins: Orphan with ["*"] orphans, while Orphan with an explicit
   * list that names Delete deletes, as does Delete with any list naming Delete or "*".
   */
  deletesExternal(): boolean {
    const orphan = this.mr.spec.deletionPolicy === 'Orphan';
    if (!orphan && this.allows('Delete')) return true;
    return !this.only('*') && this.list.includes('Delete');
  }

  /** Whether the list names `p` and nothing else. */
  private only(p: Policy): boolean {
    return this.list.length > 0 && this.list.every((x) => x === p);
  }
}

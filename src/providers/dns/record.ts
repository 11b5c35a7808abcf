import { isDeepStrictEqual } from 'node:util';
import type { ExternalClient, ExternalObservation, ManagedResource } from '../../controlplane/provider.js';
import type { RecordSetSpec, Zone } from '../../dns/zone.js';
import { externalName, mrLabel } from '../managed-resource.js';

/**
 * dns.pave.dev Record: a record set on Pave's built-in authoritative DNS server. The zone lives
 * in memory, so after a restart every Record is observed missing and served again: the managed
 * reconciler's ordinary create path is the recovery path.
 */
export class RecordClient implements ExternalClient {
  constructor(private readonly zone: Zone) {}

  async observe(mr: ManagedResource): Promise<ExternalObservation> {
    const want = recordSet(mr);
    const owner = ownerOf(mr);
    const have = this.zone.get(owner, want.name, want.type);
    if (!have) return { resourceExists: false, resourceUpToDate: false };
    const upToDate = isDeepStrictEqual(have, want);
    return {
      resourceExists: true,
      resourceUpToDate: upToDate,
      diff: upToDate ? undefined : 'record set differs from spec.forProvider',
      atProvider: { fqdn: want.name, answers: this.zone.active(owner, want.name, want.type), endpoints: this.zone.health(owner, want.name, want.type) },
    };
  }

  async create(mr: ManagedResource): Promise<{}> {
    this.serve(mr);
    return {};
  }

  async update(mr: ManagedResource): Promise<{}> {
    this.serve(mr);
    return {};
  }

  async delete(mr: ManagedResource): Promise<void> {
    const s = recordSet(mr);
    this.zone.remove(ownerOf(mr), s.name, s.type);
  }

  private serve(mr: ManagedResource): void {
    try {
      this.zone.upsert(ownerOf(mr), recordSet(mr));
    } catch (err) {
      throw new Error(`${mrLabel(mr)}: built-in DNS: ${(err as Error).message}`);
    }
  }
}

function ownerOf(mr: ManagedResource): string {
  return `Record ${mr.metadata.name}`;
}

/** spec.forProvider as the zone takes it: undefined fields dropped so comparisons are exact. */
function recordSet(mr: ManagedResource): RecordSetSpec {
  const p = mr.spec.forProvider ?? {};
  return JSON.parse(JSON.stringify({ name: (p.name ?? externalName(mr)).toLowerCase().replace(/\.$/, ''), type: p.type ?? 'A', ttl: p.ttl ?? 60, targets: p.targets, failover: p.failover, weighted: p.weighted }));
}

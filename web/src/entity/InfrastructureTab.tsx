import { useEffect, useState } from 'react';
import { condition, keyOf, type Ref, type Resource } from '../api/k8s';
import { useLabelledObjects, useObjects } from '../components/hooks';
import { ConditionBadge } from '../components/status';
import { EmptyState, Loading } from '../components/states';
import { ConnectionSecret } from './ConnectionSecret';
import { InfraGraph } from './InfraGraph';
import { ObjectDrawer } from './ObjectDrawer';

/** The composite behind a claim: Crossplane v1 puts it in spec.resourceRef. */
function compositeRef(claim: Resource | undefined): Ref | undefined {
  const r = claim?.spec?.resourceRef;
  return r?.name && r.kind && r.apiVersion ? { apiVersion: r.apiVersion, kind: r.kind, name: r.name } : undefined;
}

/** The composed resources of a composite: spec.resourceRefs (v1) or spec.crossplane.resourceRefs (v2). */
function composedRefs(xr: Resource | undefined): Ref[] {
  const refs = (xr?.spec?.resourceRefs ?? xr?.spec?.crossplane?.resourceRefs ?? []) as Partial<Ref>[];
  return refs.filter((r): r is Ref => Boolean(r.apiVersion && r.kind && r.name)).map((r) => ({ apiVersion: r.apiVersion, kind: r.kind, name: r.name, namespace: r.namespace }));
}

/** One resource of the tree: its depth (the claim is 0) and the key of the composite above it. */
export interface ChainNode {
  ref: Ref;
  obj?: Resource;
  role: 'claim' | 'composite' | 'managed';
  depth: number;
  parent?: string;
}

/** How deep the tree is followed: a composite composing itself (by mistake) must not loop. */
const MAX_DEPTH = 8;

/**
 * The claim, its composite and everything that composes, depth first, so that the table lists
 * each composite's resources right under it. A composed resource that composes in turn (a
 * nested XR) is a composite too.
 */
function treeOf(claim: Ref, claimObj: Resource | undefined, xrRef: Ref | undefined, objects: Map<string, Resource>): ChainNode[] {
  const chain: ChainNode[] = [{ ref: claim, obj: claimObj, role: 'claim', depth: 0 }];
  const seen = new Set<string>([keyOf(claim)]);
  const add = (ref: Ref, depth: number, parent: string) => {
    const key = keyOf(ref);
    if (seen.has(key) || depth > MAX_DEPTH) return;
    seen.add(key);
    const obj = objects.get(key);
    const composed = composedRefs(obj);
    chain.push({ ref, obj, role: depth === 1 || composed.length ? 'composite' : 'managed', depth, parent });
    for (const r of composed) add(r, depth + 1, key);
  };
  if (xrRef) add(xrRef, 1, keyOf(claim));
  return chain;
}

/**
 * The claim → composite → composed resource tree, live: every node shows Synced and Ready with
 * the reason, and opens its YAML and Events. The connection secret sits beside it.
 *
 * Crossplane labels the composite and everything below it, nested composites included, with the
 * claim's name and namespace, so the whole tree is watched with one watch per type.
 */
export function InfrastructureTab({ claim }: { claim: Ref }) {
  const claimObj = useObjects([claim]).get(keyOf(claim));
  const xrRef = compositeRef(claimObj);
  const selector = claimObj ? `crossplane.io/claim-name=${claim.name},crossplane.io/claim-namespace=${claim.namespace ?? 'default'}` : undefined;
  // the types grow as the tree is read, and never shrink: a type dropped while its watch
  // restarts would otherwise drop the resources that named the types below it
  const [types, setTypes] = useState<{ apiVersion: string; kind: string }[]>([]);
  const objects = useLabelledObjects(types, selector);
  const chain = treeOf(claim, claimObj, xrRef, objects);
  const typesKey = [...new Set(chain.slice(1).map((n) => `${n.ref.apiVersion}/${n.ref.kind}`))].sort().join('|');
  useEffect(() => {
    setTypes((known) => {
      const have = new Set(known.map((t) => `${t.apiVersion}/${t.kind}`));
      const added = chain.slice(1).filter((n) => !have.has(`${n.ref.apiVersion}/${n.ref.kind}`) && have.add(`${n.ref.apiVersion}/${n.ref.kind}`));
      return added.length ? [...known, ...added.map((n) => ({ apiVersion: n.ref.apiVersion, kind: n.ref.kind }))] : known;
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [typesKey]);
  const [open, setOpen] = useState<Ref>();
  const ready = chain.every((n) => condition(n.obj, 'Ready')?.status === 'True' && (n.role === 'claim' || condition(n.obj, 'Synced')?.status !== 'False'));

  if (!claimObj) return <ClaimMissing claim={claim} />;
  const secretName = claimObj.spec?.writeConnectionSecretToRef?.name as string | undefined;
  return (
    <div className="infra">
      <div className="card">
        <div className="card-head">
          <h2>Infrastructure</h2>
          <span className="muted" aria-live="polite" data-testid="infra-summary">
            {ready ? 'All resources are ready' : `${chain.filter((n) => condition(n.obj, 'Ready')?.status === 'True').length} of ${chain.length} ready`}
          </span>
        </div>
        <InfraGraph nodes={chain} onOpen={setOpen} />
        <table className="table compact" aria-label="Resources">
          <thead>
            <tr>
              <th scope="col">Resource</th>
              <th scope="col">Synced</th>
              <th scope="col">Ready</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {chain.map((n) => (
              <tr key={keyOf(n.ref)} data-testid={n.depth > 1 && n.role === 'composite' ? 'resource-nested-composite' : `resource-${n.role}`}>
                <td>
                  <span className="muted">{n.ref.kind}</span> {n.ref.name}
                  <Problem obj={n.obj} />
                </td>
                <td>{n.role === 'claim' && !condition(n.obj, 'Synced') ? '—' : <ConditionBadge obj={n.obj} type="Synced" />}</td>
                <td>
                  <ConditionBadge obj={n.obj} type="Ready" />
                </td>
                <td>
                  <button type="button" className="link" onClick={() => setOpen(n.ref)} aria-label={`YAML and events of ${n.ref.kind} ${n.ref.name}`}>
                    YAML and events
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="card">
        <h2>Connection secret</h2>
        {secretName ? <ConnectionSecret namespace={claim.namespace ?? 'default'} name={secretName} ownerUid={claimObj.metadata.uid} ownerKind={claim.kind} /> : <EmptyState title="No connection secret">This claim does not ask for one (spec.writeConnectionSecretToRef).</EmptyState>}
      </div>
      {open && <ObjectDrawer target={open} obj={chain.find((n) => keyOf(n.ref) === keyOf(open))?.obj} onClose={() => setOpen(undefined)} />}
    </div>
  );
}

/**
 * Why a resource is not healthy, as `pave trace` says it: Synced's message when it is not
 * True (the reconcile failed), else Ready's when it is not True (still on its way).
 */
function Problem({ obj }: { obj: Resource | undefined }) {
  const synced = condition(obj, 'Synced');
  const ready = condition(obj, 'Ready');
  const c = synced && synced.status !== 'True' && synced.message ? synced : ready && ready.status !== 'True' && ready.message ? ready : undefined;
  if (!c) return null;
  return (
    <div className={`condition-message ${c === synced ? 'bad' : 'busy'}`} data-testid="condition-message">
      {c.message}
    </div>
  );
}

function ClaimMissing({ claim }: { claim: Ref }) {
  const [waited, setWaited] = useState(false);
  useEffect(() => {
    const t = setTimeout(() => setWaited(true), 3000);
    return () => clearTimeout(t);
  }, []);
  if (!waited) return <Loading what={`${claim.kind} ${claim.name}`} />;
  return (
    <EmptyState title={`${claim.kind} ${claim.namespace}/${claim.name} does not exist yet`}>
      If it was just requested, it appears here once the change is merged and synced; this view updates by itself.
    </EmptyState>
  );
}

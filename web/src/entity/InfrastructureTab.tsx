import { useEffect, useState } from 'react';
import { condition, keyOf, type Ref, type Resource } from '../api/k8s';
import { useObjects } from '../components/hooks';
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

/**
 * The claim → composite → managed resource chain, live: every node shows Synced and Ready
 * with the reason, and opens its YAML and Events. The connection secret sits beside it.
 */
export function InfrastructureTab({ claim }: { claim: Ref }) {
  const claimObj = useObjects([claim]).get(keyOf(claim));
  const xrRef = compositeRef(claimObj);
  const xr = useObjects(xrRef ? [xrRef] : []);
  const xrObj = xrRef ? xr.get(keyOf(xrRef)) : undefined;
  const mrRefs = composedRefs(xrObj);
  const mrs = useObjects(mrRefs);
  const [open, setOpen] = useState<Ref>();

  const chain: { ref: Ref; obj?: Resource; role: 'claim' | 'composite' | 'managed' }[] = [{ ref: claim, obj: claimObj, role: 'claim' }];
  if (xrRef) chain.push({ ref: xrRef, obj: xrObj, role: 'composite' });
  for (const r of mrRefs) chain.push({ ref: r, obj: mrs.get(keyOf(r)), role: 'managed' });
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
              <tr key={keyOf(n.ref)} data-testid={`resource-${n.role}`}>
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

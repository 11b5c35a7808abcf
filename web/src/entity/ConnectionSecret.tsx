import { useState } from 'react';
import { getObject } from '../api/k8s';
import { useAsync } from '../components/hooks';
import { EmptyState, ErrorState, Loading } from '../components/states';

/**
 * The keys of a connection secret; a value is shown only when the user asks for it. Only a
 * Secret that `ownerUid` (the claim) controls is shown: a claim may name any Secret, but its
 * publisher refuses to write to one it does not control, and that one's keys are not the claim's.
 */
export function ConnectionSecret({ namespace, name, ownerUid, ownerKind }: { namespace: string; name: string; ownerUid?: string; ownerKind: string }) {
  const secret = useAsync(() => getObject({ apiVersion: 'v1', kind: 'Secret', namespace, name }), [namespace, name], { pollMs: 5000 });
  const [shown, setShown] = useState<Set<string>>(new Set());
  if (secret.error && !secret.data) {
    return (secret.error as { notFound?: boolean }).notFound ? (
      <EmptyState title={`Secret ${namespace}/${name} is not written yet`}>It appears when the resources are ready.</EmptyState>
    ) : (
      <ErrorState error={secret.error} what={`the secret ${namespace}/${name}`} />
    );
  }
  if (!secret.data) return <Loading what="the connection secret" />;
  const controller = secret.data.metadata.ownerReferences?.find((r) => r.controller);
  if (!controller || controller.uid !== ownerUid) {
    return (
      <EmptyState title={`Secret ${namespace}/${name} is not this ${ownerKind}'s`}>
        {controller ? `It is controlled by ${controller.kind} ${controller.name}.` : 'Nothing controls it.'} The {ownerKind} does not write its connection details to it, and its keys are not shown here.
      </EmptyState>
    );
  }
  const data = (secret.data.data ?? {}) as Record<string, string>;
  const keys = Object.keys(data).sort();
  if (!keys.length) {
    return (
      <EmptyState title={`Secret ${namespace}/${name} has no keys`}>
        Its composition publishes no connection details, or they have not arrived yet: this view updates by itself.
      </EmptyState>
    );
  }
  const toggle = (k: string) => setShown((s) => (s.has(k) ? new Set([...s].filter((x) => x !== k)) : new Set([...s, k])));
  return (
    <dl className="secret" aria-label={`Keys of secret ${namespace}/${name}`}>
      {keys.map((k) => (
        <div key={k} className="secret-row">
          <dt>{k}</dt>
          <dd>
            <code data-testid={`secret-${k}`}>{shown.has(k) ? decode(data[k]!) : '••••••••'}</code>
            <button type="button" className="link" onClick={() => toggle(k)} aria-pressed={shown.has(k)} aria-label={`${shown.has(k) ? 'Hide' : 'Reveal'} ${k}`}>
              {shown.has(k) ? 'Hide' : 'Reveal'}
            </button>
            <button type="button" className="link" onClick={() => void navigator.clipboard?.writeText(decode(data[k]!))} aria-label={`Copy ${k}`}>
              Copy
            </button>
          </dd>
        </div>
      ))}
    </dl>
  );
}

function decode(b64: string): string {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  } catch {
    return b64;
  }
}

import { stringify } from 'yaml';
import type { Resource } from '../api/k8s';

/** An object as YAML, without the bookkeeping fields nobody reads (managedFields). */
export function YamlBlock({ obj, label }: { obj: unknown; label: string }) {
  let shown = obj;
  if (obj && typeof obj === 'object' && 'metadata' in obj) {
    const r = obj as Resource;
    const { managedFields: _drop, ...metadata } = r.metadata;
    shown = { ...r, metadata };
  }
  return (
    <pre className="code" aria-label={label} tabIndex={0}>
      {stringify(shown, { lineWidth: 0 })}
    </pre>
  );
}

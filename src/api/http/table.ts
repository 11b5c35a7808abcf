import { jsonPath } from '../jsonpath.js';
import type { PrinterColumn, ResourceType } from '../registry.js';
import type { Resource } from '../types.js';

/** The server-side printing kubectl asks for with `Accept: ...;as=Table`. */
export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export function columnsFor(type: ResourceType, version: string): { defs: ColumnDefinition[]; paths: (PrinterColumn | 'name' | 'age')[] } {
  const v = type.versions.find((x) => x.name === version) ?? type.versions[0]!;
  const defs: ColumnDefinition[] = [{ name: 'Name', type: 'string', format: 'name', description: 'Name of the object', priority: 0 }];
  const paths: (PrinterColumn | 'name' | 'age')[] = ['name'];
  for (const c of v.printerColumns) {
    if (c.jsonPath === '.metadata.name') continue;
    defs.push({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 });
    paths.push(c);
  }
  if (!v.printerColumns.some((c) => c.jsonPath === '.metadata.creationTimestamp')) {
    defs.push({ name: 'Age', type: 'date', format: '', description: 'Time since the object was created', priority: 0 });
    paths.push('age');
  }
  return { defs, paths };
}

export function age(ts: string | undefined, now = Date.now()): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

function cell(obj: Resource, c: PrinterColumn | 'name' | 'age'): unknown {
  if (c === 'name') return obj.metadata.name;
  if (c === 'age') return age(obj.metadata.creationTimestamp);
  let values: unknown[];
  try {
    values = jsonPath(obj, c.jsonPath);
  } catch {
    return '<invalid>';
  }
  if (!values.length) return c.type === 'date' ? '<unknown>' : '';
  const v = values.length === 1 ? values[0] : values;
  if (c.type === 'date' && typeof v === 'string') return age(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return v;
}

export function tableRow(obj: Resource, paths: (PrinterColumn | 'name' | 'age')[], includeObject: string): { cells: unknown[]; object: unknown } {
  const object =
    includeObject === 'Object'
      ? obj
      : includeObject === 'None'
        ? undefined
        : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
  return { cells: paths.map((p) => cell(obj, p)), object };
}

export function toTable(type: ResourceType, version: string, items: Resource[], meta: Record<string, unknown>, includeObject: string, withColumns = true) {
  const { defs, paths } = columnsFor(type, version);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: meta,
    columnDefinitions: withColumns ? defs : null,
    rows: items.map((i) => tableRow(i, paths, includeObject)),
  };
}

export function wantsTable(accept: string | undefined): boolean {
  return !!accept && accept.includes('as=Table');
}

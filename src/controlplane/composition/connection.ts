import { createHash } from 'node:crypto';
import type { Resource } from '../../api/types.js';
import { getFieldPath } from '../fieldpath.js';

/** Crossplane's connection details of a composed resource template. */
export interface ConnectionDetail {
  name?: string;
  type?: 'FromConnectionSecretKey' | 'FromFieldPath' | 'FromValue';
  fromConnectionSecretKey?: string;
  fromFieldPath?: string;
  value?: string;
}

/**
 * The connection details an XR gets from one composed resource: keys of the composed
 * resource's connection secret, fields of the composed object, or fixed values. Missing
 * sources are skipped, since they usually appear once the resource is created.
 */
export function extractConnectionDetails(observed: Resource | undefined, secret: Record<string, string> | undefined, details: ConnectionDetail[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  (details ?? []).forEach((d, i) => {
    const type = d.type ?? (d.fromConnectionSecretKey ? 'FromConnectionSecretKey' : d.fromFieldPath ? 'FromFieldPath' : d.value !== undefined ? 'FromValue' : undefined);
    switch (type) {
      case 'FromConnectionSecretKey': {
        if (!d.fromConnectionSecretKey) throw new Error(`connection detail ${i}: fromConnectionSecretKey is required`);
        const v = secret?.[d.fromConnectionSecretKey];
        if (v !== undefined) out[d.name ?? d.fromConnectionSecretKey] = v;
        return;
      }
      case 'FromFieldPath': {
        if (!d.fromFieldPath) throw new Error(`connection detail ${i}: fromFieldPath is required`);
        if (!d.name) throw new Error(`connection detail ${i}: name is required for FromFieldPath`);
        const v = observed ? getFieldPath(observed, d.fromFieldPath) : undefined;
        if (v !== undefined && v !== null) out[d.name] = typeof v === 'object' ? JSON.stringify(v) : String(v);
        return;
      }
      case 'FromValue':
        if (!d.name) throw new Error(`connection detail ${i}: name is required for FromValue`);
        out[d.name] = String(d.value ?? '');
        return;
      default:
        throw new Error(`connection detail ${i}: set type to FromConnectionSecretKey, FromFieldPath or FromValue`);
    }
  });
  return out;
}

/**
 * A digest of connection secret content, for remembering what was last written without keeping
 * the credentials themselves in memory.
 */
/** A Secret's `data` (base64, as the API holds it) as plain strings. */
export function decodeSecretData(data: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

export function connectionDigest(...parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

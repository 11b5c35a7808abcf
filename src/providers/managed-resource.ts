import { randomBytes } from 'node:crypto';
import type { ManagedResource } from '../controlplane/provider.js';

/** The annotation Crossplane keeps the external resource's name in. */
export const EXTERNAL_NAME = 'crossplane.io/external-name';

/** The name of the external resource: the external-name annotation, else the object's name. */
export function externalName(mr: ManagedResource): string {
  return mr.metadata.annotations?.[EXTERNAL_NAME] || mr.metadata.name!;
}

/** A generated password: 32 URL-safe characters, so it can sit in a connection URL unescaped. */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

/** `Kind name`, for error messages that must say which managed resource failed. */
export function mrLabel(mr: ManagedResource): string {
  return `${mr.kind} ${mr.metadata.name}`;
}

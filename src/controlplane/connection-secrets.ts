import type { Client } from '../api/client.js';
import { jsonEqual } from '../api/equality.js';
import { isNotFound } from '../api/errors.js';
import type { Resource } from '../api/types.js';
import { now } from './conditions.js';

const CONNECTION_SECRET_TYPE = 'connection.crossplane.io/v1alpha1';

/**
 * A Secret, read from the store rather than a cache: a cache of every connection secret would
 * hold all credentials in memory, decrypted, for the life of the process.
 */
export async function readSecret(client: Client, namespace: string, name: string): Promise<Resource | undefined> {
  try {
    return await client.get({ apiVersion: 'v1', kind: 'Secret', namespace, name });
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/**
 * Writes connection details (base64 values) to the Secret `namespace/name` for `owner`, which
 * controls it, as Crossplane's publisher does: a Secret that exists is changed only when
 * `owner` controls it, or when nothing controls it and it is a connection secret. Any other
 * (a team's own Opaque Secret, another claim's connection secret) is refused with an error
 * that names it, and left as it is. Returns the time it wrote, or undefined when the Secret
 * already held `data`.
 */
export async function publishConnectionSecret(
  client: Client,
  owner: Resource,
  target: { namespace: string; name: string },
  data: Record<string, string>,
  fieldManager: string,
): Promise<string | undefined> {
  const { namespace, name } = target;
  const existing = await readSecret(client, namespace, name);
  if (existing) {
    const controller = existing.metadata.ownerReferences?.find((r) => r.controller);
    if (!controller && (existing.type ?? 'Opaque') !== CONNECTION_SECRET_TYPE) {
      throw new Error(`refusing to write connection details to Secret ${namespace}/${name}: it exists, is of type ${existing.type ?? 'Opaque'} and nothing controls it`);
    }
    if (controller && controller.uid !== owner.metadata.uid) {
      throw new Error(`refusing to write connection details to Secret ${namespace}/${name}: it is controlled by ${controller.kind} ${controller.name}`);
    }
    if (controller && jsonEqual(existing.data ?? {}, data)) return undefined;
  }
  await client.apply(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: CONNECTION_SECRET_TYPE,
      metadata: {
        name,
        namespace,
        ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true }],
        // what was checked above is what is changed: a Secret replaced meanwhile makes this a conflict, and a retry checks again
        ...(existing ? { resourceVersion: existing.metadata.resourceVersion } : {}),
      },
      data,
    },
    { fieldManager, force: true },
  );
  return now();
}

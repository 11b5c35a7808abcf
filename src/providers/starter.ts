import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isNotFound } from '../api/errors.js';
import { applyOrder, readManifests } from '../cli/manifests.js';
import type { Platform } from '../platform.js';
import { ensureLocalNamespace, LOCAL_NAMESPACE } from './local-cloud.js';

/** The starter platform shipped with Pave (examples/platform at the package root). */
export const STARTER_PLATFORM_DIR = fileURLToPath(new URL('../../../examples/platform/', import.meta.url));

/** Records that the starter platform was loaded, so a platform team's later edits are never overwritten. */
const MARKER = 'starter-platform';

/**
 * Applies the starter platform's XRDs and compositions (the `xrds/` and `compositions/`
 * directories under `dir`) on the first start of a data directory. Example claims are left for
 * the user to apply. A manifest that fails is logged with its file and skipped; the rest load.
 */
export async function loadStarterPlatform(p: Platform, dir: string): Promise<void> {
  try {
    await p.client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: LOCAL_NAMESPACE, name: MARKER });
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const dirs = ['xrds', 'compositions'].map((d) => join(dir, d)).filter((d) => existsSync(d));
  if (!dirs.length) {
    p.log.warn({ dir }, 'starter platform directory has no xrds/ or compositions/; nothing loaded');
    return;
  }
  let loaded = 0;
  for (const m of applyOrder(readManifests(dirs))) {
    try {
      await p.client.apply(m.object, { fieldManager: 'pave-starter-platform', force: true });
      loaded++;
    } catch (err) {
      p.log.warn({ source: m.source, kind: m.object.kind, name: m.object.metadata?.name, err: (err as Error).message }, 'starter platform manifest not applied');
    }
  }
  await ensureLocalNamespace(p);
  await p.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: MARKER, namespace: LOCAL_NAMESPACE }, data: { loadedFrom: dir, objects: String(loaded), time: new Date().toISOString() } });
  p.log.info({ dir, objects: loaded }, 'starter platform loaded');
}

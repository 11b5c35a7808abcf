import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isNotFound } from '../api/errors.js';
import { applyOrder, readManifests } from '../cli/manifests.js';
import type { Resource } from '../api/types.js';
import { git } from '../githost/index.js';
import type { Platform } from '../platform.js';
import { ensureLocalNamespace, LOCAL_NAMESPACE } from './local-cloud.js';

/** The starter platform shipped with Pave (examples/platform at the package root). */
export const STARTER_PLATFORM_DIR = fileURLToPath(new URL('../../../examples/platform/', import.meta.url));

/** Records that the starter platform was loaded, so a platform team's later edits are never overwritten. */
const MARKER = 'starter-platform';
const GIT_API = 'git.pave.dev/v1alpha1';
const CATALOG_FILE = 'catalog-info.yaml';
/** `repositories/<owner>/<name>/`: the first commit of a repository the starter creates. */
const SEEDS = 'repositories';

/**
 * Pushes `from` as the first commit of a repository the starter created on the built-in Git
 * host, so what syncs from it starts Synced rather than failing on an empty repository. A
 * repository that already has commits is left alone.
 */
async function seedRepository(p: Platform, owner: string, name: string, from: string): Promise<void> {
  if (!p.url) return;
  const ref = { apiVersion: GIT_API, kind: 'GitRepository', name: `${owner}.${name}` };
  const deadline = Date.now() + 10_000;
  let repo: Resource | undefined;
  while (!(repo = await p.client.get(ref).catch(() => undefined))?.status?.url) {
    if (Date.now() > deadline) return void p.log.warn({ repository: `${owner}/${name}` }, 'starter repository did not become ready; not seeded');
    await new Promise((r) => setTimeout(r, 20));
  }
  if (Object.keys(repo.status.refs ?? {}).length) return;
  const work = mkdtempSync(join(tmpdir(), 'pave-seed-'));
  try {
    const branch = repo.spec?.defaultBranch ?? 'main';
    await git(['init', '-q', '-b', branch, work]);
    cpSync(from, work, { recursive: true });
    await git(['add', '-A'], { cwd: work });
    await git(['commit', '-q', '-m', 'Start of the repository (Pave starter platform)'], { cwd: work });
    await git(['-c', `http.extraHeader=Authorization: Bearer ${p.adminToken}`, 'push', '-q', repo.status.url, `HEAD:refs/heads/${branch}`], { cwd: work });
  } catch (err) {
    p.log.warn({ repository: `${owner}/${name}`, err: (err as Error).message }, 'starter repository not seeded');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * An Application whose source is a repository the starter itself creates on the built-in Git
 * host names it at `pave up`'s default address; pointed at the address this server really
 * listens on, it works on any --port or --host.
 */
function onThisServer(o: Resource, hosted: Set<string>, selfUrl: string): Resource {
  if (o.apiVersion !== 'argoproj.io/v1alpha1' || o.kind !== 'Application' || !selfUrl) return o;
  const m = /^https?:\/\/[^/]+\/git\/([^/]+)\/([^/]+?)(\.git)?\/?$/.exec(String(o.spec?.source?.repoURL ?? ''));
  if (!m || !hosted.has(`${m[1]}/${m[2]}`)) return o;
  return { ...o, spec: { ...o.spec, source: { ...o.spec.source, repoURL: `${selfUrl}/git/${m[1]}/${m[2]}.git` } } };
}

/**
 * Registers the starter's catalog file through the catalog's own API, as a user registering a
 * location would, so it is listed, refreshed and removable like any other location.
 */
async function registerCatalog(p: Platform, file: string): Promise<void> {
  if (!p.url) return;
  try {
    const res = await fetch(`${p.url}/api/catalog/locations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${p.adminToken}` },
      body: JSON.stringify({ type: 'file', target: file }),
    });
    if (res.status === 404) p.log.info({ file }, 'the catalog is not installed; the starter platform\'s templates are not registered');
    else if (!res.ok && res.status !== 409) p.log.warn({ file, code: res.status, reason: (await res.text()).slice(0, 500) }, 'starter platform catalog not registered');
  } catch (err) {
    p.log.warn({ file, err: (err as Error).message }, 'starter platform catalog not registered');
  }
}

/** The directories of a starter platform that are applied, in this order. */
const APPLIED = ['xrds', 'compositions', 'bootstrap'];

/**
 * Applies the starter platform on the first start of a data directory: its XRDs and
 * compositions, the `bootstrap/` objects (the platform/deployments repository on the built-in
 * Git host and the Application that syncs claims from it), and registers its
 * `catalog-info.yaml` (organisation and Software Templates) in the catalog. Example claims are
 * left for the user to apply. A manifest that fails is logged with its file and skipped; the
 * rest load.
 */
export async function loadStarterPlatform(p: Platform, dir: string): Promise<void> {
  try {
    await p.client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: LOCAL_NAMESPACE, name: MARKER });
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const dirs = APPLIED.map((d) => join(dir, d)).filter((d) => existsSync(d));
  if (!dirs.length) {
    p.log.warn({ dir }, `starter platform directory has none of ${APPLIED.map((d) => `${d}/`).join(', ')}; nothing loaded`);
    return;
  }
  const manifests = applyOrder(readManifests(dirs));
  const hosted = new Set(manifests.filter((m) => m.object.apiVersion === GIT_API && m.object.kind === 'GitRepository').map((m) => `${m.object.spec?.owner}/${m.object.spec?.name}`));
  let loaded = 0;
  for (const m of manifests) {
    try {
      await p.client.apply(onThisServer(m.object, hosted, p.url), { fieldManager: 'pave-starter-platform', force: true });
      loaded++;
    } catch (err) {
      p.log.warn({ source: m.source, kind: m.object.kind, name: m.object.metadata?.name, err: (err as Error).message }, 'starter platform manifest not applied');
    }
  }
  for (const r of hosted) {
    const [owner, name] = r.split('/') as [string, string];
    if (existsSync(join(dir, SEEDS, owner, name))) await seedRepository(p, owner, name, join(dir, SEEDS, owner, name));
  }
  if (existsSync(join(dir, CATALOG_FILE))) await registerCatalog(p, join(dir, CATALOG_FILE));
  await ensureLocalNamespace(p);
  await p.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: MARKER, namespace: LOCAL_NAMESPACE }, data: { loadedFrom: dir, objects: String(loaded), time: new Date().toISOString() } });
  p.log.info({ dir, objects: loaded }, 'starter platform loaded');
}

import type { Client } from '../api/client.js';
import { isNotFound } from '../api/errors.js';
import type { Resource } from '../api/types.js';
import { ARGO_API_VERSION } from './crds.js';
import { globToRegExp } from './render.js';

type GroupKind = { group?: string; kind?: string };

function globMatch(pattern: string | undefined, value: string): boolean {
  if (pattern === undefined || pattern === '*') return true;
  return globToRegExp(pattern).test(value);
}

/** Destination patterns as Argo CD matches them: `*` spans any characters, `/` included (servers have paths); `{a,b}` alternates. */
function destinationMatch(pattern: string | undefined, value: string): boolean {
  if (pattern === undefined || pattern === '*') return true;
  let re = '';
  let depth = 0;
  for (const c of pattern) {
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '{') {
      re += '(?:';
      depth++;
    } else if (c === '}' && depth) {
      re += ')';
      depth--;
    } else if (c === ',' && depth) re += '|';
    else re += c.replace(/[.+^$()|[\]\\{}]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(value);
}

/** Argo CD's list semantics: `!pattern` entries deny, others allow; an empty list allows nothing. */
function permitted(patterns: string[] | undefined, value: string): boolean {
  const list = patterns ?? [];
  if (list.some((p) => p.startsWith('!') && globMatch(p.slice(1), value))) return false;
  return list.some((p) => !p.startsWith('!') && globMatch(p, value));
}

const projects = new Map<string, { at: number; project: Resource | undefined }>();

async function loadProject(client: Client, namespace: string, name: string): Promise<Resource | undefined> {
  const k = `${namespace}/${name}`;
  const hit = projects.get(k);
  if (hit && Date.now() - hit.at < 1000) return hit.project;
  let project: Resource | undefined;
  try {
    project = await client.get({ apiVersion: ARGO_API_VERSION, kind: 'AppProject', namespace, name });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  projects.set(k, { at: Date.now(), project });
  return project;
}

/** Forgets cached projects (when an AppProject changes). */
export function forgetProjects(): void {
  projects.clear();
}

/** A resolved destination: the cluster's server and name (both known once resolved), and the namespace. */
export interface ProjectDestination {
  server: string;
  name: string;
  namespace?: string;
}

/**
 * Argo CD's destination rule: an entry permits the destination when its server or its name
 * pattern matches the cluster's, and its namespace pattern matches. An entry with neither
 * server nor name matches every cluster.
 */
export function destinationPermitted(project: Resource, dest: ProjectDestination): boolean {
  return (project.spec?.destinations ?? []).some((d: { server?: string; name?: string; namespace?: string }) => {
    const clusterOk = d.server || d.name ? (!!d.server && destinationMatch(d.server, dest.server)) || (!!d.name && destinationMatch(d.name, dest.name)) : true;
    return clusterOk && destinationMatch(d.namespace, dest.namespace ?? '');
  });
}

/**
 * Checks an Application's source and destination against its AppProject. Returns the reason it is
 * not permitted (naming the field and the project), or undefined.
 */
export async function checkProject(client: Client, app: Resource, source: { repoURL: string }, dest: ProjectDestination): Promise<string | undefined> {
  const name = app.spec?.project || 'default';
  const project = await loadProject(client, app.metadata.namespace!, name);
  if (!project) return `spec.project: AppProject "${name}" does not exist in namespace ${app.metadata.namespace}`;
  const p = project.spec ?? {};
  if (!permitted(p.sourceRepos, source.repoURL)) return `spec.source.repoURL: repository ${source.repoURL} is not permitted in project "${name}"`;
  if (!destinationPermitted(project, dest)) return `spec.destination: server ${dest.server}${dest.name ? ` (cluster ${dest.name})` : ''} namespace ${dest.namespace ?? '(none)'} is not permitted in project "${name}"`;
  return undefined;
}

function listed(list: GroupKind[] | undefined, group: string, kind: string): boolean {
  return (list ?? []).some((e) => globMatch(e.group ?? '', group) && globMatch(e.kind ?? '*', kind));
}

/**
 * Checks each object's kind against the project's cluster and namespace resource white- and
 * blacklists. Returns one message per object that may not be synced.
 */
export async function deniedResources(client: Client, app: Resource, objects: Resource[], namespaced: (o: Resource) => boolean): Promise<string[]> {
  const name = app.spec?.project || 'default';
  const project = await loadProject(client, app.metadata.namespace!, name);
  if (!project) return [];
  const p = project.spec ?? {};
  const out: string[] = [];
  for (const o of objects) {
    const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0]! : '';
    const ns = namespaced(o);
    const white: GroupKind[] | undefined = ns ? p.namespaceResourceWhitelist : p.clusterResourceWhitelist;
    const black: GroupKind[] | undefined = ns ? p.namespaceResourceBlacklist : p.clusterResourceBlacklist;
    // namespaced kinds are allowed unless whitelisted selectively; cluster kinds need a whitelist entry
    const allowed = ns ? white === undefined || listed(white, group, o.kind) : listed(white, group, o.kind);
    if (!allowed || listed(black, group, o.kind)) out.push(`${group ? `${group}/` : ''}${o.kind} "${o.metadata.name}" is not permitted in project "${name}"`);
  }
  return out;
}

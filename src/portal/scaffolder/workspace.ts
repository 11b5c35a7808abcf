import { lstat, mkdir, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

/** A path a template asked for that would leave its workspace. */
export class WorkspaceEscapeError extends Error {
  override name = 'InputError';
}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('..'));
}

/**
 * Resolves a path a step gave, relative to the task workspace, refusing anything that leaves
 * it: absolute paths, `..`, and paths that pass through a symlink pointing elsewhere.
 * `field` names the input in the error.
 */
export async function safePath(workspace: string, p: string | undefined, field: string): Promise<string> {
  const given = p ?? '.';
  if (typeof given !== 'string') throw new WorkspaceEscapeError(`${field} must be a path`);
  if (isAbsolute(given)) throw new WorkspaceEscapeError(`${field} "${given}" is absolute; paths are relative to the task workspace`);
  const root = await realpath(workspace);
  const full = resolve(root, given);
  if (!inside(root, full)) throw new WorkspaceEscapeError(`${field} "${given}" points outside the task workspace`);
  // the deepest part that exists must really be inside: a symlink on the way could lead out
  let probe = full;
  for (;;) {
    try {
      await lstat(probe);
      break;
    } catch {
      const up = dirname(probe);
      if (up === probe) break;
      probe = up;
    }
  }
  const real = await realpath(probe);
  if (!inside(root, real)) throw new WorkspaceEscapeError(`${field} "${given}" passes through a symlink that leads outside the task workspace`);
  const st = await lstat(full).catch(() => undefined);
  if (st?.isSymbolicLink()) {
    const target = await realpath(full).catch(() => undefined);
    if (!target || !inside(root, target)) throw new WorkspaceEscapeError(`${field} "${given}" is a symlink that leads outside the task workspace`);
  }
  return full;
}

export async function ensureDir(p: string): Promise<void> {
  await mkdir(p, { recursive: true });
}

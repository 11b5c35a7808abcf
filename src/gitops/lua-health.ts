import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { parse } from 'yaml';
import type { Resource } from '../api/types.js';
import type { Health, HealthStatus } from './health.js';
import { globToRegExp } from './render.js';

// fengari ships no type declarations; the surface used here is small and checked by the tests
const fengari = createRequire(import.meta.url)('fengari') as any;
const { lua, lauxlib, lualib, to_luastring, to_jsstring } = fengari;

const PREFIX = 'resource.customizations.health.';
const STATUSES: HealthStatus[] = ['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'];
/** A health script that runs longer than this many Lua instructions is stopped. */
const INSTRUCTION_LIMIT = 1_000_000;

interface Check {
  group: RegExp;
  kind: RegExp;
  source: string;
  key: string;
}

/**
 * Custom health checks in Argo CD's own format: Lua scripts under
 * `resource.customizations.health.<group>_<kind>` (or the older `resource.customizations` YAML)
 * in the `argocd-cm` ConfigMap. Each script sees the object as `obj` and returns a table with
 * `status` and `message`. Scripts run in a fresh sandbox with base, string, table and math only
 * (no io, os, require or file loading) and an instruction budget.
 */
export class LuaHealthChecks {
  private checks: Check[] = [];

  constructor(private readonly log: Logger) {}

  load(data: Record<string, string>): void {
    const checks: Check[] = [];
    const add = (groupKind: string, source: string, key: string) => {
      const us = groupKind.lastIndexOf('_');
      const slash = groupKind.lastIndexOf('/');
      const sep = us >= 0 ? us : slash;
      const group = sep >= 0 ? groupKind.slice(0, sep) : '';
      const kind = sep >= 0 ? groupKind.slice(sep + 1) : groupKind;
      checks.push({ group: globToRegExp(group), kind: globToRegExp(kind), source, key });
    };
    for (const [k, v] of Object.entries(data)) if (k.startsWith(PREFIX)) add(k.slice(PREFIX.length), v, k);
    if (data['resource.customizations']) {
      try {
        const old = parse(data['resource.customizations']) as Record<string, { 'health.lua'?: string }>;
        for (const [gk, c] of Object.entries(old ?? {})) if (c?.['health.lua']) add(gk, c['health.lua'], `resource.customizations ${gk}`);
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'argocd-cm resource.customizations is not valid YAML; ignored');
      }
    }
    // exact keys win over wildcard ones
    this.checks = checks.sort((a, b) => Number(a.key.includes('*')) - Number(b.key.includes('*')));
  }

  check(obj: Resource): Health | undefined {
    if (!this.checks.length) return undefined;
    const group = obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0]! : '';
    const c = this.checks.find((x) => x.group.test(group) && x.kind.test(obj.kind));
    if (!c) return undefined;
    try {
      return runHealthScript(c.source, obj);
    } catch (e) {
      return { status: 'Unknown', message: `${c.key}: ${(e as Error).message}` };
    }
  }
}

/** Runs one Argo CD health script against `obj` in a sandbox; throws with Lua's message. */
export function runHealthScript(source: string, obj: Resource): Health {
  const L = lauxlib.luaL_newstate();
  try {
    for (const [name, open] of [['_G', lualib.luaopen_base], ['string', lualib.luaopen_string], ['table', lualib.luaopen_table], ['math', lualib.luaopen_math]] as const) {
      lauxlib.luaL_requiref(L, to_luastring(name), open, 1);
      lua.lua_pop(L, 1);
    }
    for (const unsafe of ['dofile', 'loadfile', 'load', 'require', 'collectgarbage']) {
      lua.lua_pushnil(L);
      lua.lua_setglobal(L, to_luastring(unsafe));
    }
    lua.lua_sethook(L, () => lauxlib.luaL_error(L, to_luastring('health script exceeded its instruction budget')), lua.LUA_MASKCOUNT, INSTRUCTION_LIMIT);
    push(L, obj);
    lua.lua_setglobal(L, to_luastring('obj'));
    if (lauxlib.luaL_loadstring(L, to_luastring(source)) !== lua.LUA_OK || lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK) {
      throw new Error(to_jsstring(lua.lua_tostring(L, -1) ?? to_luastring('error')));
    }
    const result = read(L, -1) as { status?: string; message?: string } | undefined;
    const status = STATUSES.find((s) => s === result?.status) ?? 'Unknown';
    return { status, ...(result?.message ? { message: String(result.message) } : {}) };
  } finally {
    lua.lua_close(L);
  }
}

function push(L: unknown, v: unknown): void {
  if (v === null || v === undefined) lua.lua_pushnil(L);
  else if (typeof v === 'boolean') lua.lua_pushboolean(L, v);
  else if (typeof v === 'number') lua.lua_pushnumber(L, v);
  else if (typeof v === 'string') lua.lua_pushstring(L, to_luastring(v));
  else if (Array.isArray(v)) {
    lua.lua_createtable(L, v.length, 0);
    v.forEach((x, i) => {
      push(L, x);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else if (typeof v === 'object') {
    lua.lua_createtable(L, 0, Object.keys(v).length);
    for (const [k, x] of Object.entries(v)) {
      push(L, x);
      lua.lua_setfield(L, -2, to_luastring(k));
    }
  } else lua.lua_pushnil(L);
}

function read(L: unknown, idx: number, depth = 0): unknown {
  const t = lua.lua_type(L, idx);
  if (t === lua.LUA_TSTRING) return to_jsstring(lua.lua_tostring(L, idx));
  if (t === lua.LUA_TNUMBER) return lua.lua_tonumber(L, idx);
  if (t === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, idx);
  if (t !== lua.LUA_TTABLE || depth > 5) return undefined;
  const out: Record<string, unknown> = {};
  const abs = lua.lua_absindex(L, idx);
  lua.lua_pushnil(L);
  while (lua.lua_next(L, abs) !== 0) {
    const k = lua.lua_type(L, -2) === lua.LUA_TSTRING ? to_jsstring(lua.lua_tostring(L, -2)) : String(lua.lua_tonumber(L, -2));
    out[k] = read(L, -1, depth + 1);
    lua.lua_pop(L, 1);
  }
  return out;
}

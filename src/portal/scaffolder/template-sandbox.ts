import nunjucks from 'nunjucks';

/**
 * A template expression reached for something outside the data it was given: a prototype, a
 * constructor, a JavaScript global, or a function that is not one of its own macros.
 */
export class TemplateSandboxError extends Error {
  override name = 'TemplateSandboxError';
}

/** Property names that lead from data to code: `''.constructor.constructor` is Function. */
const BLOCKED_PROPERTIES = new Set(['constructor', 'prototype', '__proto__', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);

/** Names a payload uses to reach Node; nunjucks' own globals (range, cycler, joiner) are functions whose constructor is Function. */
const BLOCKED_NAMES = new Set([...BLOCKED_PROPERTIES, 'this', 'global', 'globalThis', 'process', 'require', 'module', 'exports', 'Function', 'eval', 'range', 'cycler', 'joiner']);

/**
 * The methods a template may call on strings and lists. None takes a callback, returns a
 * function or builds an unbounded string (repeat and padStart are left out for that reason).
 */
const STRING_METHODS = new Set(['toLowerCase', 'toUpperCase', 'trim', 'trimStart', 'trimEnd', 'startsWith', 'endsWith', 'includes', 'indexOf', 'lastIndexOf', 'slice', 'substring', 'split', 'replace', 'replaceAll', 'charAt', 'at', 'concat', 'toString']);
const LIST_METHODS = new Set(['join', 'includes', 'indexOf', 'lastIndexOf', 'slice', 'concat', 'at']);

/** The widest `center` and `indent` may pad: both build the padding in memory. */
const MAX_PAD = 1000;

const { SafeString } = nunjucks.runtime;
/** The parts of nunjucks' runtime that @types/nunjucks does not declare. */
const base = nunjucks.runtime as unknown as { makeMacro(...a: unknown[]): (...a: unknown[]) => unknown; suppressValue(v: unknown, autoescape: boolean): unknown };

/** Functions a template may call: its own macros (and `caller`) and the method wrappers below. */
const callable = new WeakSet<(...args: unknown[]) => unknown>();

function propertyName(key: unknown): string {
  if (typeof key === 'number') return String(key);
  if (typeof key === 'string') return key;
  // an object key would be converted by calling its toString: refuse rather than call it
  throw new TemplateSandboxError(`a property name must be a string or a number, not ${key === null ? 'null' : typeof key}`);
}

function boundMethod(target: string | unknown[], name: string): (...args: unknown[]) => unknown {
  const fn = (...args: unknown[]) => {
    if (args.some((a) => typeof a === 'function')) throw new TemplateSandboxError(`${name}() does not take a function argument in a template`);
    return (target as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
  };
  callable.add(fn);
  return fn;
}

/**
 * Reads `obj[key]` the way a template may: own data properties only (never inherited ones),
 * nothing of a function, the listed string and list methods, and never the names that lead to
 * constructors. Everything that reads a property for a template goes through here.
 */
export function readProperty(obj: unknown, key: unknown): unknown {
  if (obj === undefined || obj === null) return undefined;
  const name = propertyName(key);
  if (BLOCKED_PROPERTIES.has(name)) throw new TemplateSandboxError(`"${name}" cannot be read in a template`);
  if (typeof obj === 'string' || obj instanceof SafeString) {
    const s = String(obj);
    if (STRING_METHODS.has(name)) return boundMethod(s, name);
    return Object.hasOwn(Object(s), name) ? (s as unknown as Record<string, unknown>)[name] : undefined;
  }
  if (Array.isArray(obj)) {
    if (LIST_METHODS.has(name)) return boundMethod(obj, name);
    return Object.hasOwn(obj, name) ? (obj as unknown as Record<string, unknown>)[name] : undefined;
  }
  if (typeof obj === 'object') return Object.hasOwn(obj, name) ? (obj as Record<string, unknown>)[name] : undefined;
  // functions, numbers and booleans have nothing a template needs
  return undefined;
}

/**
 * A copy of template data made of null-prototype objects and fresh lists, so even a lookup
 * that slipped past readProperty finds no inherited constructor. Functions are dropped.
 */
export function sandboxData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sandboxData);
  if (typeof value === 'function') return undefined;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = Object.create(null);
    for (const [k, v] of Object.entries(value)) out[k] = sandboxData(v);
    return out;
  }
  return value;
}

/** How a value shows in text; null-prototype objects cannot be converted by JavaScript itself. */
function asText(v: unknown): unknown {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map(asText).join(',');
  if (typeof v === 'object' && !(v instanceof SafeString) && Object.getPrototypeOf(v) === null) return '[object Object]';
  return v;
}

interface Frame {
  lookup(name: string): unknown;
}
interface Context {
  getVariables(): Record<string, unknown>;
}

/**
 * nunjucks' runtime with every way out of the data closed: compiled templates reach values
 * only through these functions (member lookup, name lookup, calls), so this is the sandbox.
 */
const sandboxRuntime = {
  ...nunjucks.runtime,
  memberLookup: readProperty,
  contextOrFrameLookup(context: Context, frame: Frame, name: string): unknown {
    if (BLOCKED_NAMES.has(name)) throw new TemplateSandboxError(`"${name}" is not available in templates; they see parameters, secrets, steps, user, context and each`);
    const v = frame.lookup(name);
    if (v !== undefined) return v;
    const vars = context.getVariables();
    return Object.hasOwn(vars, name) ? vars[name] : undefined;
  },
  callWrap(fn: unknown, name: string, context: unknown, args: unknown[]): unknown {
    if (!fn) throw new TemplateSandboxError(`${name} cannot be called: it is undefined (a template calls its own macros and a few string and list methods)`);
    if (typeof fn !== 'function' || !callable.has(fn as (...a: unknown[]) => unknown)) throw new TemplateSandboxError(`${name} cannot be called: templates call only their own macros and string or list methods`);
    return (fn as (...a: unknown[]) => unknown).apply(context, args);
  },
  makeMacro(...args: unknown[]): unknown {
    const m = base.makeMacro(...args);
    callable.add(m);
    return m;
  },
  suppressValue(v: unknown, autoescape: boolean): unknown {
    return base.suppressValue(asText(v), autoescape);
  },
};

type RootRender = (env: unknown, context: unknown, frame: unknown, runtime: unknown, cb: unknown) => void;

/**
 * A nunjucks environment whose templates run on the sandboxed runtime: no globals, no loader
 * (so no include, import or extends), and padding filters bounded.
 */
export class SandboxedEnvironment {
  readonly env: nunjucks.Environment;
  private cache = new Map<string, nunjucks.Template>();

  constructor(opts: nunjucks.ConfigureOptions) {
    this.env = new nunjucks.Environment(null, opts);
    const globals = (this.env as unknown as { globals: Record<string, unknown> }).globals;
    for (const k of Object.keys(globals)) delete globals[k];
    const bounded = (name: 'center' | 'indent') => {
      const original = this.env.getFilter(name) as (s: unknown, width?: unknown, ...rest: unknown[]) => unknown;
      this.env.addFilter(name, (s: unknown, width?: unknown, ...rest: unknown[]) => {
        if (typeof width === 'number' && width > MAX_PAD) throw new TemplateSandboxError(`${name}(${width}) is wider than ${MAX_PAD}`);
        return original(s, width, ...rest);
      });
    };
    bounded('center');
    bounded('indent');
  }

  addFilter(name: string, fn: (...args: any[]) => unknown): void {
    this.env.addFilter(name, fn);
  }

  /** Renders a template string against data already passed through sandboxData. */
  render(src: string, data: unknown): string {
    let tmpl = this.cache.get(src);
    if (!tmpl) {
      tmpl = new nunjucks.Template(src, this.env, undefined, true);
      const compiled = tmpl as unknown as { rootRenderFunc: RootRender };
      const root = compiled.rootRenderFunc;
      // blocks and macros get the runtime from the root function, so swapping it here covers them
      compiled.rootRenderFunc = (env, context, frame, _runtime, cb) => root(env, context, frame, sandboxRuntime, cb);
      if (this.cache.size >= 500) this.cache.clear();
      this.cache.set(src, tmpl);
    }
    return tmpl.render(data as object);
  }
}

/**
 * The subset of Kubernetes JSONPath that printer columns and kubectl use:
 * `.a.b`, `.a[0]`, `.a[*].b`, `.a['dotted.key']`, `.a.dotted\.key` and
 * `.a[?(@.type=="Ready")].status`.
 */
type Step = { kind: 'field'; name: string } | { kind: 'index'; index: number } | { kind: 'all' } | { kind: 'filter'; path: string[]; op: '==' | '!='; value: string };

function parse(expr: string): Step[] {
  let s = expr.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  if (s.startsWith('$')) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === '.') {
      i++;
      if (s[i] === '*') {
        steps.push({ kind: 'all' });
        i++;
        continue;
      }
      if (s[i] === '[') continue;
      const f = field(s, i);
      if (!f) throw new Error(`invalid JSONPath ${expr} at ${i}`);
      steps.push({ kind: 'field', name: f.name });
      i = f.end;
    } else if (s[i] === '[') {
      const end = matchingBracket(s, i);
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else {
        const f = /^\?\(\s*@((?:\.[A-Za-z0-9_\-]+)+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|([^)\s]+))\s*\)$/.exec(inner);
        if (!f) throw new Error(`unsupported JSONPath filter [${inner}] in ${expr}`);
        steps.push({ kind: 'filter', path: f[1]!.slice(1).split('.'), op: f[2] as '==' | '!=', value: f[3] ?? f[4] ?? f[5]! });
      }
    } else {
      const f = field(s, i);
      if (!f) throw new Error(`invalid JSONPath ${expr} at ${i}`);
      steps.push({ kind: 'field', name: f.name });
      i = f.end;
    }
  }
  return steps;
}

/**
 * A field name starting at `start`: everything up to the next unescaped `.`, `[`, `]`, space or
 * brace, as Kubernetes reads it, so that `crossplane\.io/external-name` (the annotation every
 * Crossplane managed resource prints) is one field.
 */
function field(s: string, start: number): { name: string; end: number } | undefined {
  let name = '';
  let i = start;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) name += s[++i];
    else if ('.[]{}(), \t\n'.includes(c)) break;
    else name += c;
  }
  return name ? { name, end: i } : undefined;
}

function matchingBracket(s: string, start: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  throw new Error(`unbalanced [ in JSONPath ${s}`);
}

const compiled = new Map<string, Step[]>();

/** All values the path selects (empty when nothing matches). */
export function jsonPath(obj: unknown, expr: string): unknown[] {
  let steps = compiled.get(expr);
  if (!steps) compiled.set(expr, (steps = parse(expr)));
  let cur: unknown[] = [obj];
  for (const st of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || v === undefined) continue;
      if (st.kind === 'field') {
        if (typeof v === 'object' && !Array.isArray(v) && st.name in (v as object)) next.push((v as Record<string, unknown>)[st.name]);
        else if (Array.isArray(v)) for (const e of v) if (e && typeof e === 'object' && st.name in e) next.push((e as Record<string, unknown>)[st.name]);
      } else if (st.kind === 'index') {
        if (Array.isArray(v)) {
          const e = v[st.index < 0 ? v.length + st.index : st.index];
          if (e !== undefined) next.push(e);
        }
      } else if (st.kind === 'all') {
        if (Array.isArray(v)) next.push(...v);
        else if (typeof v === 'object') next.push(...Object.values(v as object));
      } else {
        if (!Array.isArray(v)) continue;
        for (const e of v) {
          let x: any = e;
          for (const p of st.path) x = x?.[p];
          const eq = x !== undefined && String(x) === st.value;
          if ((st.op === '==') === eq) next.push(e);
        }
      }
    }
    cur = next;
  }
  return cur;
}

/** The first selected value, or undefined. */
export function jsonPathFirst(obj: unknown, expr: string): unknown {
  return jsonPath(obj, expr)[0];
}

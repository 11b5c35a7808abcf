/**
 * A Go-style duration (500ms, 10s, 1m, 1h30m), as Crossplane's poll-interval annotation and
 * kube-apiserver's flags write them, in milliseconds; undefined if it is not one.
 */
export function parseDuration(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let matched = '';
  for (const m of v.matchAll(re)) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms']!;
    matched += m[0];
  }
  return matched === v && total > 0 ? total : undefined;
}

let stampedSecond = 0;
let stamp = '';

/**
 * Now, in RFC 3339 at second precision, as Kubernetes writes object and condition times.
 * Formatted once per second: writes under load ask for it thousands of times a second.
 */
export function timestamp(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== stampedSecond) {
    stampedSecond = second;
    stamp = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  return stamp;
}

import { forgetToken, storedToken, waitForSignIn } from './session';

/**
 * The one HTTP client of the web UI. Every failure becomes an ApiFailure whose message is the
 * server's own (a Kubernetes Status message or a Backstage error body), so pages can show
 * the user what to change; `unavailable` says the backend behind the path is not installed.
 */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly path: string,
    /** Field-level causes, when the server sent them (Kubernetes Status details.causes). */
    readonly causes: { field?: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiFailure';
  }

  /** The route itself does not exist: the module that serves it is not part of this server. */
  get unavailable(): boolean {
    return this.status === 404 && /could not find the requested resource: (GET|POST|PUT|PATCH|DELETE) |is not served/.test(this.message);
  }

  get notFound(): boolean {
    return this.status === 404;
  }
}

export async function request<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  headers.set('accept', headers.get('accept') ?? 'application/json');
  let res: Response;
  try {
    res = await send(path, { ...init, headers, body });
  } catch (e) {
    throw new ApiFailure(0, `the Pave server did not answer (${(e as Error).message})`, path);
  }
  const text = await res.text();
  if (!res.ok) throw failureFrom(res.status, text, path);
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    return text as T;
  }
}

/**
 * fetch with the stored token as `Authorization: Bearer <token>`: every call of the web UI,
 * streams included, goes through here (EventSource cannot send the header). On a 401 a stored
 * token is dropped and the request goes again without it, so a server that serves anonymous
 * requests never asks; otherwise the request waits for the sign-in form (which shows why the
 * server refused the token, if one was tried) and goes again with the token entered there.
 */
export async function send(path: string, init: RequestInit = {}): Promise<Response> {
  let refused: string | undefined;
  for (;;) {
    const token = storedToken();
    const headers = new Headers(init.headers);
    if (token) headers.set('authorization', `Bearer ${token}`);
    const res = await fetch(path, { ...init, headers });
    if (res.status !== 401) return res;
    const reason = failureFrom(401, await res.text(), path).message;
    if (token) refused = reason;
    // the token changed while this request was under way (signed in, or dropped by another): go again
    if (storedToken() !== token) continue;
    if (token) {
      forgetToken(token);
      continue;
    }
    await waitForSignIn(refused, init.signal);
    refused = undefined;
  }
}

/**
 * A streamed response body, piece by piece: the text between one `separator` and the next, line
 * ends read as "\n". What follows the last separator when the stream ends is not a piece.
 */
export async function* streamedPieces(res: Response, separator: string): AsyncGenerator<string> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buffer.indexOf(separator)) >= 0) {
      yield buffer.slice(0, end);
      buffer = buffer.slice(end + separator.length);
    }
  }
}

export function failureFrom(status: number, text: string, path: string): ApiFailure {
  try {
    const b = JSON.parse(text) as { message?: string; details?: { causes?: { field?: string; message: string }[] }; error?: { message?: string } };
    const message = b.error?.message ?? b.message ?? `HTTP ${status}`;
    return new ApiFailure(status, message, path, b.details?.causes ?? []);
  } catch {
    return new ApiFailure(status, text.trim().slice(0, 300) || `HTTP ${status}`, path);
  }
}

export function query(params: Record<string, string | number | undefined | (string | undefined)[]>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    for (const item of Array.isArray(v) ? v : [v]) if (item !== undefined && item !== '') q.append(k, String(item));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

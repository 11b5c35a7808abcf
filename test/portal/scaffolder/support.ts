/** One Server-Sent Events frame as Backstage's scaffolder sends it. */
export interface SseFrame {
  event: string;
  data: { id: number; type: string; body: { message: string; status?: string; stepId?: string; output?: Record<string, unknown> } };
}

/** Reads an event stream until the server closes it, parsing `event:` / `data:` frames. */
export async function readEventStream(url: string, timeoutMs = 20_000): Promise<{ contentType: string | null; frames: SseFrame[] }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`event stream: HTTP ${res.status}: ${await res.text()}`);
  const text = await res.text();
  const frames: SseFrame[] = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    const event = /^event: (.*)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (!event || !data) throw new Error(`malformed SSE frame: ${JSON.stringify(block)}`);
    frames.push({ event, data: JSON.parse(data) });
  }
  return { contentType: res.headers.get('content-type'), frames };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export interface TaskRun {
  id: string;
  frames: SseFrame[];
  /** The body of the last event: the completion (or cancellation) of the run. */
  last: SseFrame['data']['body'];
  /** Every message of the run, one a line. */
  log: string;
}

/** Starts a task from a catalog template through POST /v2/tasks and follows it to its end. */
export async function runTemplate(baseUrl: string, templateRef: string, values: Record<string, unknown>, opts: { secrets?: Record<string, string>; user?: string } = {}): Promise<TaskRun> {
  const created = await postJson(`${baseUrl}/api/scaffolder/v2/tasks`, { templateRef, values, ...(opts.secrets ? { secrets: opts.secrets } : {}) }, opts.user ? { 'x-pave-user': opts.user } : {});
  if (created.status !== 201) throw new Error(`POST /v2/tasks: HTTP ${created.status}: ${JSON.stringify(created.body)}`);
  const { frames } = await readEventStream(`${baseUrl}/api/scaffolder/v2/tasks/${created.body.id}/eventstream`, 30_000);
  return { id: created.body.id, frames, last: frames.at(-1)!.data.body, log: frames.map((f) => f.data.body.message).join('\n') };
}

/**
 * Dry-runs a template from the catalog (so `./skeleton` resolves next to it) through
 * POST /v2/dry-run, returning the workspace it produced as text by path.
 */
export async function dryRunTemplate(baseUrl: string, name: string, values: Record<string, unknown>, seed: Record<string, string | Buffer> = {}) {
  const template = await (await fetch(`${baseUrl}/api/catalog/entities/by-name/template/default/${name}`)).json();
  const directoryContents = Object.entries(seed).map(([path, content]) => ({ path, base64Content: Buffer.from(content).toString('base64') }));
  const res = await postJson(`${baseUrl}/api/scaffolder/v2/dry-run`, { template, values, directoryContents });
  const files: Record<string, Buffer> = {};
  for (const f of res.body?.directoryContents ?? []) files[f.path] = Buffer.from(f.base64Content, 'base64');
  const text = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v.toString('utf8')]));
  const log = ((res.body?.log ?? []) as { body: { message: string } }[]).map((l) => l.body.message).join('\n');
  const executable = ((res.body?.directoryContents ?? []) as { path: string; executable: boolean }[]).filter((f) => f.executable).map((f) => f.path);
  return { status: res.status, body: res.body, files, text, log, executable };
}

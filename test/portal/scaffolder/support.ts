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

export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

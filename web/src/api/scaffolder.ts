import { failureFrom, query, request, send, streamedPieces } from './http';

export interface ParameterStep {
  title: string;
  description?: string;
  schema: Record<string, any>;
}

export interface ParameterSchema {
  title: string;
  description?: string;
  steps: ParameterStep[];
}

export function parameterSchema(ref: { namespace: string; name: string }): Promise<ParameterSchema> {
  return request(`/api/scaffolder/v2/templates/${encodeURIComponent(ref.namespace)}/template/${encodeURIComponent(ref.name)}/parameter-schema`);
}

/** Starts a task; `templateRef` is `template:namespace/name`. */
export function createTask(templateRef: string, values: Record<string, unknown>): Promise<{ id: string }> {
  return request('/api/scaffolder/v2/tasks', { method: 'POST', json: { templateRef, values } });
}

export type TaskStatus = 'open' | 'processing' | 'failed' | 'completed' | 'cancelled' | 'skipped';

export interface Task {
  id: string;
  spec: { templateInfo?: { entityRef?: string; entity?: { metadata?: { title?: string; name?: string } } }; steps?: { id: string; name: string; action: string }[]; parameters?: Record<string, unknown>; user?: { ref?: string } };
  status: TaskStatus;
  createdAt: string;
  lastHeartbeatAt?: string;
  createdBy?: string;
}

export function getTask(id: string): Promise<Task> {
  return request(`/api/scaffolder/v2/tasks/${encodeURIComponent(id)}`);
}

export function listTasks(createdBy?: string): Promise<{ tasks: Task[]; totalTasks?: number }> {
  return request(`/api/scaffolder/v2/tasks${query({ createdBy, limit: 50, order: 'desc:created_at' })}`);
}

export function cancelTask(id: string): Promise<void> {
  return request(`/api/scaffolder/v2/tasks/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
}

/** One task event: a log line of a step, or the completion with the task's output. */
export interface TaskEvent {
  id: number;
  taskId: string;
  type: 'log' | 'completion' | 'cancelled' | 'recover';
  createdAt: string;
  body: {
    message: string;
    stepId?: string;
    status?: TaskStatus;
    output?: TaskOutput;
    error?: { name?: string; message?: string };
  };
}

export interface TaskOutput {
  links?: { title?: string; url?: string; entityRef?: string; icon?: string }[];
  text?: { title?: string; content: string }[];
  [key: string]: unknown;
}

/**
 * Follows a task's events, which the server sends as Server-Sent Events. They are read with
 * fetch rather than EventSource, which cannot send the token; like EventSource it connects
 * again when the stream breaks, and asks for the events after the last one it has (`after`),
 * so a flaky connection loses no lines. Returns the function that stops following.
 */
export function followTask(id: string, onEvent: (e: TaskEvent) => void, onError: (message: string) => void): () => void {
  const stop = new AbortController();
  let last = -1;
  const follow = async () => {
    while (!stop.signal.aborted) {
      const path = `/api/scaffolder/v2/tasks/${encodeURIComponent(id)}/eventstream${query({ after: last >= 0 ? last : undefined })}`;
      try {
        const res = await send(path, { signal: stop.signal, headers: { accept: 'text/event-stream' } });
        if (!res.ok) return onError(failureFrom(res.status, await res.text(), path).message);
        for await (const data of eventData(res)) {
          let e: TaskEvent;
          try {
            e = JSON.parse(data) as TaskEvent;
          } catch {
            onError('the task stream sent something that is not a task event');
            continue;
          }
          last = Math.max(last, e.id);
          onEvent(e);
          if (e.type === 'completion' || e.type === 'cancelled') return;
        }
      } catch {
        // the connection broke: connect again below, as EventSource would
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void follow();
  return () => stop.abort();
}

/** The `data` of each event in a text/event-stream response. */
async function* eventData(res: Response): AsyncGenerator<string> {
  for await (const block of streamedPieces(res, '\n\n')) {
    const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, ''));
    if (data.length) yield data.join('\n');
  }
}

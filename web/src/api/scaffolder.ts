import { query, request } from './http';

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
 * Follows a task's events over Server-Sent Events; EventSource reconnects by itself and the
 * server resumes after the last event id, so a flaky connection loses no lines.
 * Returns the function that stops following.
 */
export function followTask(id: string, onEvent: (e: TaskEvent) => void, onError: (message: string) => void): () => void {
  const source = new EventSource(`/api/scaffolder/v2/tasks/${encodeURIComponent(id)}/eventstream`);
  let closed = false;
  const handle = (ev: MessageEvent) => {
    try {
      const e = JSON.parse(ev.data) as TaskEvent;
      onEvent(e);
      if (e.type === 'completion' || e.type === 'cancelled') {
        closed = true;
        source.close();
      }
    } catch {
      onError('the task stream sent something that is not a task event');
    }
  };
  source.addEventListener('log', handle as EventListener);
  source.addEventListener('completion', handle as EventListener);
  source.addEventListener('cancelled', handle as EventListener);
  source.onmessage = handle;
  source.onerror = () => {
    if (!closed && source.readyState === EventSource.CLOSED) onError('the connection to the task log closed; reload to resume');
  };
  return () => {
    closed = true;
    source.close();
  };
}

/**
 * The one error type for API failures. It serialises to a Kubernetes `Status`, so
 * kubectl, client-node and Pave's own clients all read the same shape.
 */
export interface StatusCause {
  field?: string;
  message: string;
  reason?: string;
}

export type StatusReason =
  | 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'NotFound' | 'AlreadyExists' | 'Conflict'
  | 'Gone' | 'Invalid' | 'RequestEntityTooLarge' | 'UnsupportedMediaType' | 'MethodNotAllowed'
  | 'NotAcceptable' | 'TooManyRequests' | 'InternalError' | 'ServiceUnavailable' | 'Timeout' | 'Expired';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusObject {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: StatusReason;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    // A 4xx is an answer (not found, conflict, invalid), not a fault: controllers meet them by
    // the thousand and never read their stacks, which cost more to capture (~18 µs) than the
    // request they answer. A 5xx keeps its stack.
    const limit = Error.stackTraceLimit;
    if (code < 500) Error.stackTraceLimit = 0;
    try {
      super(message);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'ApiError';
  }

  toStatus(): StatusObject {
    const s: StatusObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) s.details = this.details;
    return s;
  }

  static fromStatus(s: Partial<StatusObject>, fallbackCode: number): ApiError {
    return new ApiError(s.code ?? fallbackCode, (s.reason as StatusReason) ?? 'InternalError', s.message ?? `HTTP ${fallbackCode}`, s.details);
  }

  static notFound(resource: string, name: string, group = ''): ApiError {
    const what = group ? `${resource}.${group}` : resource;
    return new ApiError(404, 'NotFound', `${what} "${name}" not found`, { name, group, kind: resource });
  }

  static alreadyExists(resource: string, name: string, group = ''): ApiError {
    const what = group ? `${resource}.${group}` : resource;
    return new ApiError(409, 'AlreadyExists', `${what} "${name}" already exists`, { name, group, kind: resource });
  }

  static conflict(resource: string, name: string, why: string, group = ''): ApiError {
    const what = group ? `${resource}.${group}` : resource;
    return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${what} "${name}": ${why}`, { name, group, kind: resource });
  }

  static invalid(kind: string, name: string, causes: StatusCause[], group = ''): ApiError {
    const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ');
    return new ApiError(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${list}`, { name, group, kind, causes });
  }

  static badRequest(message: string): ApiError {
    return new ApiError(400, 'BadRequest', message);
  }

  static gone(message: string): ApiError {
    return new ApiError(410, 'Expired', message);
  }
}

export function isApiError(e: unknown, code?: number): e is ApiError {
  return e instanceof ApiError && (code === undefined || e.code === code);
}

export function isNotFound(e: unknown): boolean {
  return isApiError(e, 404);
}

export function isConflict(e: unknown): boolean {
  return isApiError(e, 409);
}

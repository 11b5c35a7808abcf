import { pino, type Logger } from 'pino';

/**
 * The one logger. Structured, one line per event. Fields that can carry credentials are
 * redacted wherever they appear, so a Secret that reaches a log line by accident is not leaked.
 */
export function createLogger(level = process.env.PAVE_LOG_LEVEL ?? 'info', destination?: NodeJS.WritableStream): Logger {
  const opts = {
    level,
    base: undefined,
    redact: {
      paths: ['*.data', '*.stringData', '*.password', '*.token', 'req.headers.authorization', '*.*.data', '*.*.stringData', '*.*.password'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(opts, destination as never) : pino(opts);
}

export type { Logger };

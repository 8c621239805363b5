import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { DatabaseUnavailable } from '../../db/database-unavailable.ts';
import type { ObErrorCode, ObProblem } from '../ob-error-codes.ts';

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  500: 'InternalServerError',
  503: 'ServiceUnavailable',
};

/** A consent API failure, answered in the UK OB error envelope with its HTTP status. */
export class ObError extends Error {
  override name = 'ObError';
  readonly status: number;
  readonly problems: ObProblem[];
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, problems: ObProblem[], headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.problems = problems;
    this.headers = headers;
  }

  static of(status: number, code: ObErrorCode, message: string, path?: string): ObError {
    return new ObError(status, message, [{ code, message, ...(path && { path }) }]);
  }
}

export function obEnvelope(status: number, message: string, problems: ObProblem[]) {
  return {
    Code: `${status} ${REASONS[status] ?? 'Error'}`,
    Id: randomUUID(),
    Message: message,
    Errors: problems.map((p) => ({ ErrorCode: p.code, Message: p.message, ...(p.path && { Path: p.path }) })),
  };
}

/** Renders ObErrors as the envelope; anything else is logged and answered as UK.OBIE.UnexpectedError (503 while the database is unreachable). */
export function obErrors(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (caught) {
      if (caught instanceof ObError) {
        ctx.status = caught.status;
        ctx.set(caught.headers);
        ctx.body = obEnvelope(caught.status, caught.message, caught.problems);
        return;
      }
      logger.error({ err: caught, path: ctx.path }, 'consent API request failed');
      if (caught instanceof DatabaseUnavailable) {
        ctx.status = 503;
        ctx.set('Retry-After', String(caught.retryAfterSeconds));
        ctx.body = obEnvelope(503, 'temporarily unavailable, try again shortly', [{ code: 'UK.OBIE.UnexpectedError', message: 'the service is temporarily unavailable' }]);
        return;
      }
      ctx.status = 500;
      ctx.body = obEnvelope(500, 'unexpected error', [{ code: 'UK.OBIE.UnexpectedError', message: 'unexpected error' }]);
    }
  };
}

import { randomUUID } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import type { EdgeRefusal } from '../http/hostile-input.ts';
import { type JsonBodyFault, JsonBodyRefused } from '../http/json-body.ts';
import { TokenRejected } from '../http/presented-token.ts';
import { AccessRefused } from '../http/route-guard.ts';
import { ClientThrottled } from '../protocol/client-throttled.ts';
import { DatabaseUnavailable } from '../protocol/database-unavailable.ts';
import { AssentError } from '../protocol/assent-error.ts';
import type { ObErrorCode, ObProblem } from '../protocol/ob-error-codes.ts';
import { obErrorRowOf } from './ob-errors.ts';

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
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

/**
 * How one UK OB version writes its error envelope from the status, the message and the problems (each
 * named by its v3.1 code); undefined for an answer that carries no body. v3.1's is below; v4.0's
 * (4-character codes) is uk-ob-v4/ob-v4-errors.ts, handed to obErrors by the routes that speak it.
 */
export type ObEnvelope = (status: number, message: string, problems: ObProblem[]) => Record<string, unknown> | undefined;

/** The high-level `Code` of the envelope: `400 BadRequest`. */
export const statusCodeText = (status: number) => `${status} ${REASONS[status] ?? 'Error'}`;

export const obV3Envelope: ObEnvelope = (status, message, problems) => ({
  Code: statusCodeText(status),
  Id: randomUUID(),
  Message: message,
  Errors: problems.map((p) => ({ ErrorCode: p.code, Message: p.message, ...(p.path && { Path: p.path }) })),
});

/** Answers an ObError: its status, its headers and the envelope. */
function answer(ctx: Context, error: ObError, envelope: ObEnvelope) {
  // An explicit null is an empty body (Koa would otherwise write the status text); set before the
  // status, which Koa would otherwise turn into 204.
  ctx.body = envelope(error.status, error.message, error.problems) ?? null;
  ctx.status = error.status;
  ctx.set(error.headers);
}

/**
 * Input refused at the edge (http/hostile-input.ts: NUL characters, unpaired surrogates, a body over
 * the limit), before it reaches a router, answered in the envelope of the version it was sent to.
 */
export function obEdgeRefusalIn(envelope: ObEnvelope): EdgeRefusal {
  return (ctx, status, description) => {
    answer(ctx, ObError.of(status, status === 413 ? 'UK.OBIE.Resource.InvalidFormat' : 'UK.OBIE.Field.Invalid', description), envelope);
  };
}

export const obEdgeRefusal: EdgeRefusal = obEdgeRefusalIn(obV3Envelope);

/** The envelope of a request body the JSON reader (http/json-body.ts) refused. */
const BODY_REFUSALS: Record<JsonBodyFault, (message: string) => ObError> = {
  media_type: () => ObError.of(415, 'UK.OBIE.Header.Invalid', 'Content-Type must be application/json', 'Content-Type'),
  too_large: () => ObError.of(413, 'UK.OBIE.Resource.InvalidFormat', 'the request body is too large'),
  malformed: () => ObError.of(400, 'UK.OBIE.Resource.InvalidFormat', 'the request body is not valid JSON'),
  invalid: (message) => ObError.of(400, 'UK.OBIE.Resource.InvalidFormat', message),
};

/** The envelope of the route guard's refusals and of refused bodies: 401 with the token's challenge, 403 for a token the route refuses. */
function guardRefusal(caught: unknown): ObError | undefined {
  if (caught instanceof TokenRejected) {
    const code = caught.missing ? 'UK.OBIE.Header.Missing' : 'UK.OBIE.Header.Invalid';
    return new ObError(401, caught.message, [{ code, message: caught.message, path: caught.header }], caught.headers);
  }
  if (caught instanceof AccessRefused) return ObError.of(403, 'UK.OBIE.Header.Invalid', caught.message, 'Authorization');
  if (caught instanceof JsonBodyRefused) return BODY_REFUSALS[caught.fault](caught.message);
  return undefined;
}

/**
 * Renders ObErrors, the route guard's refusals, and service errors through the table in ob-errors.ts,
 * as the envelope (v3.1's unless the routes speak another version); anything else is logged and
 * answered as UK.OBIE.UnexpectedError (503 while the database is unreachable).
 */
export function obErrors(logger: Logger, envelope: ObEnvelope = obV3Envelope): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (caught) {
      const row = caught instanceof AssentError ? obErrorRowOf(caught) : undefined;
      const known = row ? ObError.of(row.status, row.code, (caught as AssentError).message, row.path) : (guardRefusal(caught) ?? caught);
      if (known instanceof ObError) {
        answer(ctx, known, envelope);
        return;
      }
      if (caught instanceof ClientThrottled) {
        const message = String(caught.error_description);
        const throttled = new ObError(429, message, [{ code: 'UK.OBIE.UnexpectedError', message }], {
          'Retry-After': String(caught.retryAfterSeconds),
        });
        answer(ctx, throttled, envelope);
        return;
      }
      logger.error({ err: caught, path: ctx.path }, 'consent API request failed');
      if (caught instanceof DatabaseUnavailable) {
        const unavailable = new ObError(
          503,
          'temporarily unavailable, try again shortly',
          [{ code: 'UK.OBIE.UnexpectedError', message: 'the service is temporarily unavailable' }],
          { 'Retry-After': String(caught.retryAfterSeconds) },
        );
        answer(ctx, unavailable, envelope);
        return;
      }
      answer(ctx, ObError.of(500, 'UK.OBIE.UnexpectedError', 'unexpected error'), envelope);
    }
  };
}

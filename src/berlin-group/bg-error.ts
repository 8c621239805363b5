import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import type { EdgeRefusal } from '../http/hostile-input.ts';
import { type JsonBodyFault, JsonBodyRefused } from '../http/json-body.ts';
import { TokenRejected } from '../http/presented-token.ts';
import { AccessRefused } from '../http/route-guard.ts';
import { AssentError } from '../protocol/assent-error.ts';
import { ClientThrottled } from '../protocol/client-throttled.ts';
import { DatabaseUnavailable } from '../protocol/database-unavailable.ts';
import { type BgAddressed, type BgMessageCode, bgErrorRowOf, bgStatusOf, BG_MESSAGE_CODES } from './bg-errors.ts';
import { echoedRequestId } from './bg-request-id.ts';

/**
 * The one error path of the Berlin Group routes: BgError and every other failure answered as the
 * NextGenPSD2 error envelope `{ tppMessages: [{ category, code, path?, text }], _links? }` with the status
 * of its code (bg-errors.ts), X-Request-ID echoed on every answer. Where the OpenAPI file says a status has
 * "no valid message codes" (415, 500, 503, a 429 that is not ACCESS_EXCEEDED) the answer has no body, as
 * the file defines it.
 */

export interface BgTppMessage {
  category: 'ERROR';
  code: BgMessageCode;
  path?: string;
  text: string;
}

export interface BgHref {
  href: string;
}

/** A Berlin Group failure: the status, the messages and any headers or links of its answer. */
export class BgError extends Error {
  override name = 'BgError';
  readonly status: number;
  readonly messages: BgTppMessage[];
  readonly headers: Record<string, string>;
  readonly links: Record<string, BgHref> | undefined;
  constructor(
    status: number,
    messages: BgTppMessage[],
    options: { headers?: Record<string, string>; links?: Record<string, BgHref> } = {},
  ) {
    super(messages.map((message) => `${message.code}: ${message.text}`).join('; '));
    this.status = status;
    this.messages = messages;
    this.headers = options.headers ?? {};
    this.links = options.links;
  }

  /** One message of `code`, its status as addressed; `text` defaults to the guidelines' meaning of the code. */
  static of(code: BgMessageCode, text?: string, options: { path?: string; addressed?: BgAddressed } = {}): BgError {
    return new BgError(bgStatusOf(code, options.addressed), [bgMessage(code, text, options.path)]);
  }
}

export function bgMessage(code: BgMessageCode, text?: string, path?: string): BgTppMessage {
  return { category: 'ERROR', code, ...(path && { path }), text: text ?? BG_MESSAGE_CODES[code].text };
}

/** The envelope of an error. */
export function bgEnvelope(error: BgError): { tppMessages: BgTppMessage[]; _links?: Record<string, BgHref> } {
  return { tppMessages: error.messages, ...(error.links && { _links: error.links }) };
}

function answer(ctx: Context, error: BgError) {
  ctx.status = error.status;
  ctx.set(error.headers);
  ctx.body = bgEnvelope(error);
}

/** A status the OpenAPI file answers without a body: the status and its headers only. */
function answerBodiless(ctx: Context, status: number, headers: Record<string, string> = {}) {
  ctx.body = null;
  ctx.status = status;
  ctx.remove('Content-Type');
  ctx.set(headers);
}

/** Statuses answered without a body, by the JSON reader's fault. */
const BODILESS_FAULTS: Partial<Record<JsonBodyFault, number>> = { media_type: 415, too_large: 413 };

const BODY_REFUSALS: Record<'malformed' | 'invalid', (message: string) => BgError> = {
  malformed: () => BgError.of('FORMAT_ERROR', 'the request body is not valid JSON'),
  invalid: (message) => BgError.of('FORMAT_ERROR', message),
};

/** A Koa or router HTTP error (http-errors): its status, when it is one a client caused. */
function httpErrorStatus(caught: unknown): number | undefined {
  if (!(caught instanceof Error)) return undefined;
  const { status, expose } = caught as Error & { status?: unknown; expose?: unknown };
  if (status === 501) return status;
  return typeof status === 'number' && expose === true && status >= 400 && status < 500 ? status : undefined;
}

/** The envelope of what is not a BgError but has a Berlin Group answer with a body. */
function knownRefusal(caught: unknown): BgError | undefined {
  if (caught instanceof BgError) return caught;
  if (caught instanceof AssentError) {
    const row = bgErrorRowOf(caught);
    return row && BgError.of(row.code, caught.message, row);
  }
  if (caught instanceof TokenRejected) {
    const refusal = BgError.of('TOKEN_INVALID', caught.message, { path: caught.header });
    return new BgError(refusal.status, refusal.messages, { headers: caught.headers });
  }
  if (caught instanceof AccessRefused) {
    const refusal = BgError.of('TOKEN_INVALID', caught.message, { path: 'Authorization' });
    return new BgError(refusal.status, refusal.messages, { headers: { 'www-authenticate': caught.challenge } });
  }
  if (caught instanceof JsonBodyRefused && (caught.fault === 'malformed' || caught.fault === 'invalid')) {
    return BODY_REFUSALS[caught.fault](caught.message);
  }
  const status = httpErrorStatus(caught);
  if (status === 404) return BgError.of('RESOURCE_UNKNOWN', 'no Berlin Group resource at this path', { addressed: 'path' });
  if (status === 405 || status === 501)
    return BgError.of('SERVICE_INVALID', 'this method is not supported on this resource', { addressed: 'method' });
  if (status === 400) return BgError.of('FORMAT_ERROR', 'the request is malformed');
  return undefined;
}

/**
 * Answers every failure of the routes below it in the NextGenPSD2 shape: BgErrors, service errors through
 * bg-errors.ts's table, the route guard's and the JSON reader's refusals, the router's unknown paths (404
 * RESOURCE_UNKNOWN) and methods (405 SERVICE_INVALID); the operator's throttle (429) and a lost database
 * (503) with Retry-After and no body; anything else is logged and answered 500 without a body. X-Request-ID
 * is echoed on every answer, errors included, when the request carried a well-formed one.
 */
export function bgErrors(logger: Logger): Middleware {
  return async (ctx, next) => {
    const requestId = echoedRequestId(ctx);
    try {
      await next();
      if (ctx.status === 404 && (ctx.body === undefined || ctx.body === null))
        answer(ctx, BgError.of('RESOURCE_UNKNOWN', 'no Berlin Group resource at this path'));
    } catch (caught) {
      const known = knownRefusal(caught);
      if (known) answer(ctx, known);
      else if (caught instanceof JsonBodyRefused) answerBodiless(ctx, BODILESS_FAULTS[caught.fault] ?? 400);
      else if (caught instanceof ClientThrottled) answerBodiless(ctx, 429, { 'Retry-After': String(caught.retryAfterSeconds) });
      else {
        logger.error({ err: caught, path: ctx.path }, 'Berlin Group request failed');
        if (caught instanceof DatabaseUnavailable) answerBodiless(ctx, 503, { 'Retry-After': String(caught.retryAfterSeconds) });
        else answerBodiless(ctx, 500);
      }
    }
    if (requestId) ctx.set('X-Request-ID', requestId);
  };
}

/**
 * Input refused at the edge (http/hostile-input.ts: NUL characters, unpaired surrogates, deep JSON, a body
 * over the limit) before the Berlin Group routes see it: FORMAT_ERROR, or 413 without a body.
 */
export const bgEdgeRefusal: EdgeRefusal = (ctx, status, description) => {
  if (status === 413) answerBodiless(ctx, 413);
  else answer(ctx, BgError.of('FORMAT_ERROR', description));
  const requestId = echoedRequestId(ctx);
  if (requestId) ctx.set('X-Request-ID', requestId);
};

import type { Context } from 'koa';
import { duplicateMemberName } from './json-duplicate-keys.ts';
import { BodyTooLarge, readRequestBody } from './request-body.ts';

/**
 * The one reader of JSON request bodies for Assent's own APIs. A refusal is thrown with its reason, never
 * answered here: each protocol's one error handler words it in its own shape (ob-api/ob-error.ts, the
 * admin API's adminErrors, the error page's JSON for the customer's device API).
 */

export type JsonBodyFault = 'media_type' | 'too_large' | 'malformed' | 'invalid';

const DEFAULTS: Record<JsonBodyFault, { status: number; message: string }> = {
  media_type: { status: 415, message: 'expected application/json' },
  too_large: { status: 413, message: 'the request body is too large' },
  malformed: { status: 400, message: 'the body is not JSON' },
  invalid: { status: 400, message: 'the body is not what this endpoint takes' },
};

/** A JSON body refused: the wrong media type, too large, not JSON, or JSON of the wrong shape (`invalid`). */
export class JsonBodyRefused extends Error {
  override name = 'JsonBodyRefused';
  readonly fault: JsonBodyFault;
  readonly status: number;
  readonly expose = true;
  constructor(fault: JsonBodyFault, message?: string, options?: ErrorOptions) {
    super(message ?? DEFAULTS[fault].message, options);
    this.fault = fault;
    this.status = DEFAULTS[fault].status;
  }
}

/**
 * What an empty body reads as: `malformed` (JSON requires a value), `{}` when the body is optional, or `{}`
 * even without a Content-Type (a POST that carries nothing need not say what it would carry).
 */
export type EmptyBody = 'malformed' | 'object' | 'object-untyped';

/** The request body as JSON, from the body read once per request (http/request-body.ts). */
export async function readJsonBody(ctx: Context, empty: EmptyBody = 'malformed'): Promise<unknown> {
  const typed = Boolean(ctx.is('application/json'));
  if (!typed && empty !== 'object-untyped') throw new JsonBodyRefused('media_type');
  const raw = await readRequestBody(ctx).catch((error: unknown) => {
    throw error instanceof BodyTooLarge ? new JsonBodyRefused('too_large', undefined, { cause: error }) : error;
  });
  if (raw.length === 0 && empty !== 'malformed') return {};
  if (!typed) throw new JsonBodyRefused('media_type');
  const text = raw.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new JsonBodyRefused('malformed', undefined, { cause });
  }
  const twice = duplicateMemberName(text);
  if (twice !== undefined) throw new JsonBodyRefused('invalid', `the body names the member ${JSON.stringify(twice)} twice in one object`);
  return parsed;
}

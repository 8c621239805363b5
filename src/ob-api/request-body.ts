import type { Context } from 'koa';
import { BodyTooLarge, readRequestBody } from '../http/request-body.ts';
import { ObError } from './ob-error.ts';

/** What the UK OB-shaped APIs (consent API, bank API) read from a request: its JSON body and its idempotency key. */

const tooLarge = () => ObError.of(413, 'UK.OBIE.Resource.InvalidFormat', 'the request body is too large');

/** The request body as JSON (at most MAX_BODY_BYTES), from the body the edge check already read (http/request-body.ts). */
export async function readJson(ctx: Context): Promise<unknown> {
  if (!ctx.is('application/json')) throw ObError.of(415, 'UK.OBIE.Header.Invalid', 'Content-Type must be application/json', 'Content-Type');
  const body = await readRequestBody(ctx).catch((error: unknown) => {
    throw error instanceof BodyTooLarge ? tooLarge() : error;
  });
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw ObError.of(400, 'UK.OBIE.Resource.InvalidFormat', 'the request body is not valid JSON');
  }
}

/** The x-idempotency-key header (UK OB: at most 40 characters, no spaces); undefined when absent and not required. */
export function idempotencyKeyOf(ctx: Context, required: boolean): string | undefined {
  const key = ctx.get('x-idempotency-key');
  if (!key) {
    if (required) throw ObError.of(400, 'UK.OBIE.Header.Missing', 'x-idempotency-key is required', 'x-idempotency-key');
    return undefined;
  }
  if (key.length > 40 || /\s/.test(key)) throw ObError.of(400, 'UK.OBIE.Header.Invalid', 'x-idempotency-key must be at most 40 characters without spaces', 'x-idempotency-key');
  return key;
}

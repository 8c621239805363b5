import type { Context } from 'koa';
import { readJsonBody } from '../http/json-body.ts';
import { ObError } from './ob-error.ts';

/** What the UK OB-shaped APIs (consent API, bank API) read from a request: its JSON body and its idempotency key. */

/** The request body as JSON; a refusal is worded by the envelope's error handler (ob-error.ts). */
export function readJson(ctx: Context): Promise<unknown> {
  return readJsonBody(ctx);
}

/** The x-idempotency-key header (UK OB: at most 40 characters, no spaces); undefined when absent and not required. */
export function idempotencyKeyOf(ctx: Context, required: boolean): string | undefined {
  const key = ctx.get('x-idempotency-key');
  if (!key) {
    if (required) throw ObError.of(400, 'UK.OBIE.Header.Missing', 'x-idempotency-key is required', 'x-idempotency-key');
    return undefined;
  }
  if (key.length > 40 || /\s/.test(key))
    throw ObError.of(400, 'UK.OBIE.Header.Invalid', 'x-idempotency-key must be at most 40 characters without spaces', 'x-idempotency-key');
  return key;
}

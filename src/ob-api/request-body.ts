import type { Context } from 'koa';
import { ObError } from './ob-error.ts';

/** What the UK OB-shaped APIs (consent API, bank API) read from a request: its JSON body and its idempotency key. */

const BODY_LIMIT = 64 * 1024;

/** The request body as JSON (at most 64 KiB). */
export async function readJson(ctx: Context): Promise<unknown> {
  if (!ctx.is('application/json')) throw ObError.of(415, 'UK.OBIE.Header.Invalid', 'Content-Type must be application/json', 'Content-Type');
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) throw ObError.of(413, 'UK.OBIE.Resource.InvalidFormat', 'the request body is too large');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
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

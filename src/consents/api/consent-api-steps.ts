import { createHash, randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { canonicalJson } from '../../audit/canonical-json.ts';
import { ObError } from '../../ob-api/ob-error.ts';
import { idempotencyKeyOf } from '../../ob-api/request-body.ts';

/** The consent API's request steps, each enforcing one rule (see consent-router.ts for their order). */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** FAPI: echo the TPP's x-fapi-interaction-id (an RFC 4122 UUID) or make one up, on every response. */
export async function fapiInteractionId(ctx: Context, next: Next) {
  const given = ctx.get('x-fapi-interaction-id');
  ctx.set('x-fapi-interaction-id', given && UUID.test(given) ? given : randomUUID());
  ctx.set('cache-control', 'no-store');
  if (given && !UUID.test(given))
    throw ObError.of(400, 'UK.OBIE.Header.Invalid', 'x-fapi-interaction-id must be a UUID', 'x-fapi-interaction-id');
  await next();
}

/**
 * The x-idempotency-key with a hash of the body it came with: the same key and body return the first
 * consent, the same key with another body is refused. Required on payment consents.
 */
export function idempotencyOf(ctx: Context, body: unknown, required: boolean): { key: string; requestHash: string } | undefined {
  const key = idempotencyKeyOf(ctx, required);
  return key === undefined ? undefined : { key, requestHash: createHash('sha256').update(canonicalJson(body)).digest('hex') };
}

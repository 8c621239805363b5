import { createHash, randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { canonicalJson } from '../audit/canonical-json.ts';
import { ObError } from '../ob-api/ob-error.ts';
import { idempotencyKeyOf } from '../ob-api/request-body.ts';
import { admittedQuota } from '../ops/rate-limit.ts';

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

/**
 * UK OB v4.0.1's optional rate-limit headers (Read/Write Data API Profile v4.0.1, "Rate Limit Headers":
 * "In some circumstances it **may** be appropriate for an ASPSP to use rate limit headers to inform a
 * TPP that a rate limit is being applied", sourced from the IETF RateLimit header fields draft), on
 * every v4.0 answer to a TPP under the operator's throttle (`tpp:throttle`), success or error, 429
 * included: `RateLimit-Policy: "tpp";q=<limit>;w=<window seconds>` and
 * `RateLimit: "tpp";r=<remaining>;t=<seconds to the window's end>`. A TPP without a throttle, or a
 * request that authenticated no client, gets neither. The profile's optional `x-client-id` request
 * header is not needed: the throttle is the authenticated client's.
 */
export async function obV4RateLimitHeaders(ctx: Context, next: Next) {
  try {
    await next();
  } finally {
    const quota = admittedQuota();
    if (quota) {
      ctx.set('RateLimit-Policy', `"tpp";q=${quota.limit};w=${quota.windowSeconds}`);
      ctx.set('RateLimit', `"tpp";r=${quota.remaining};t=${quota.resetSeconds}`);
    }
  }
}

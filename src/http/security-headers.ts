import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

/** No inline script anywhere; pages cannot be framed. form-action is left out on purpose: browsers apply
 * it to the redirect that carries the customer back to the TPP after a form post. */
const CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' https: data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const FAPI_INTERACTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const securityHeaders: Middleware = async (ctx, next) => {
  ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
  ctx.set('X-Frame-Options', 'DENY');
  // FAPI: echo the TPP's interaction id (a UUID) or mint one, so both sides can correlate logs.
  const presented = ctx.get('x-fapi-interaction-id');
  const interactionId = FAPI_INTERACTION_ID.test(presented) ? presented : randomUUID();
  ctx.state.interactionId = interactionId;
  ctx.set('x-fapi-interaction-id', interactionId);
  await next();
};

import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

/**
 * No script of Assent's anywhere; pages cannot be framed. form-action is left out on purpose: browsers
 * apply it to the redirect that carries the customer back to the TPP after a form post.
 *
 * `script-src` is declared so that oidc-provider can allow its own auto-submitting form (the sign-out
 * of another customer's session before a sign-in, `/session/end` without a session, form_post): when
 * the directive exists, the library appends the SHA-256 of exactly that script to the response's
 * policy (lib/helpers/script_src_sha.js). Without the directive those pages stayed blank. The only
 * static source is the hash of the empty script, which allows nothing.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
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

import { createHash, randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import { canonicalJson } from '../../audit/canonical-json.ts';
import type { ClientCertificateReader } from '../../http/client-certificate.ts';
import { verifyObApiToken } from '../../ob-api/client-token.ts';
import type { ConsentType } from '../../protocol/consent-types.ts';
import { SCOPE_OF } from '../../protocol/scopes.ts';
import { mayCreateConsents } from '../tpp-consent-roles.ts';
import { ObError } from '../../ob-api/ob-error.ts';
import { idempotencyKeyOf } from '../../ob-api/request-body.ts';

/** The consent API's request steps, each enforcing one rule (see consent-router.ts for their order). */

export interface TppState {
  clientId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** FAPI: echo the TPP's x-fapi-interaction-id (an RFC 4122 UUID) or make one up, on every response. */
export async function fapiInteractionId(ctx: Context, next: Next) {
  const given = ctx.get('x-fapi-interaction-id');
  ctx.set('x-fapi-interaction-id', given && UUID.test(given) ? given : randomUUID());
  ctx.set('cache-control', 'no-store');
  if (given && !UUID.test(given)) throw ObError.of(400, 'UK.OBIE.Header.Invalid', 'x-fapi-interaction-id must be a UUID', 'x-fapi-interaction-id');
  await next();
}

/**
 * A sender-constrained client_credentials token with the consent type's scope, from a TPP whose
 * role allows that consent type.
 */
export function requireTppToken(provider: Provider, presentedCertificate: ClientCertificateReader, type: ConsentType) {
  return async function checkTppToken(ctx: Context, next: Next) {
    const token = await verifyObApiToken(provider, presentedCertificate, ctx);
    const scope = SCOPE_OF[type];
    if (!token.scopes.has(scope)) throw ObError.of(403, 'UK.OBIE.Header.Invalid', `the access token lacks the ${scope} scope`, 'Authorization');
    if (!mayCreateConsents(token.registeredScope, type)) throw ObError.of(403, 'UK.OBIE.Header.Invalid', `this TPP may not manage ${type} consents`, 'Authorization');
    (ctx.state as { tpp: TppState }).tpp = { clientId: token.clientId };
    await next();
  };
}

export function tppOf(ctx: Context): TppState {
  return (ctx.state as { tpp: TppState }).tpp;
}

/**
 * The x-idempotency-key with a hash of the body it came with: the same key and body return the first
 * consent, the same key with another body is refused. Required on payment consents.
 */
export function idempotencyOf(ctx: Context, body: unknown, required: boolean): { key: string; requestHash: string } | undefined {
  const key = idempotencyKeyOf(ctx, required);
  return key === undefined ? undefined : { key, requestHash: createHash('sha256').update(canonicalJson(body)).digest('hex') };
}

import type { Context } from 'koa';
import type { JWK } from 'jose';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';
import validateDpop from 'oidc-provider/lib/helpers/validate_dpop.js';
import instance from 'oidc-provider/lib/helpers/weak_cache.js';

/**
 * Every place Assent relies on oidc-provider beyond its documented, typed API, in one file, so that an
 * upgrade is checked here and by test/engine/engine-internals.test.ts (which fails when one of these breaks).
 * Checked against oidc-provider 9.13.
 */

export const ENGINE_VERSION_CHECKED = '9.13';

/**
 * Replaces a running provider's keystore and published JWKS (key rotation without a restart). The
 * library builds its keystore once at construction and has no public API to change it.
 */
export function replaceKeystore(provider: Provider, keys: JWK[]): void {
  initializeKeystore.call(provider, { keys });
}

type UniqueCheck = (iss: string, jti: string, exp: number) => Promise<boolean>;

/**
 * Replaces the static `ReplayDetection.unique` that DPoP proofs and client assertions go through
 * (lib/helpers/validate_dpop.js, lib/shared/jwt_client_auth.js). The library's own is find-then-save.
 */
export function replaceReplayCheck(provider: Provider, unique: UniqueCheck): void {
  (provider as unknown as { ReplayDetection: { unique: UniqueCheck } }).ReplayDetection.unique = unique;
}

/** The Session model's instance side that replaceSessionRotation wraps (lib/models/session.js). */
interface EngineSession {
  oldId?: string;
  save(ttl: number): Promise<unknown>;
}

/**
 * Runs the save of a Session whose identifier was reset (lib/models/session.js `save`: `resetIdentifier`
 * at a resumed login keeps the old id in `oldId`, which the library destroys before it upserts the new)
 * through `replacing`, with the library's own destroy left out: `replacing` gets the old id and the save,
 * so that the store can remove the old row in the new row's statement.
 */
export function replaceSessionRotation(
  provider: Provider,
  replacing: (oldId: string, save: () => Promise<unknown>) => Promise<unknown>,
): void {
  const { prototype } = (provider as unknown as { Session: { prototype: EngineSession } }).Session;
  const save = prototype.save;
  prototype.save = function rotating(this: EngineSession, ttl: number) {
    const oldId = this.oldId;
    if (!oldId) return save.call(this, ttl);
    // Once gone, the old row needs no second delete: a later save of this session is a plain upsert.
    this.oldId = undefined;
    return replacing(oldId, () => save.call(this, ttl));
  };
}

/**
 * The key the provider itself would sign with now for `alg` (its keystore honours `key_ops`), so that
 * Assent's own JWTs (event notifications) use the same, rotated keys as its ID tokens.
 */
export function currentSigningKey(provider: Provider, alg: string): (JWK & { kid?: string }) | undefined {
  return instance(provider).keystore.selectForSign({ alg, use: 'sig' })[0] as (JWK & { kid?: string }) | undefined;
}

/** The engine's DPoP nonces (RFC 9449 section 8): a time-windowed HKDF of `features.dPoP.nonceSecret`. */
export interface DpopNonces {
  /** The nonce to hand out now (valid for the next few minutes). */
  nextChallenge(): string;
  /** Whether a proof's nonce is one of the current windows' (the previous two included). */
  checkChallenge(nonce: string): boolean;
}

/**
 * The provider's own DPoP nonce source (lib/helpers/challenge.js, built from nonceSecret in
 * lib/provider.js), so that Assent's own endpoints hand out and accept exactly the nonces of /par and
 * /token; undefined when the provider has no nonceSecret.
 */
export function dpopNonces(provider: Provider): DpopNonces | undefined {
  return (instance(provider) as { DPoPNonces?: DpopNonces }).DPoPNonces;
}

/**
 * Checks the token request's DPoP proof now, exactly as the grant handler will (lib/helpers/validate_dpop.js
 * keeps the result per request, so the handler does not check it twice): a step before the handler
 * that counts or writes something refuses a proof without a current nonce (use_dpop_nonce) first.
 */
export async function checkDpopProofFirst(ctx: KoaContextWithOIDC): Promise<void> {
  await validateDpop(ctx.oidc.provider, ctx);
}

/** Moves a stored Grant's end (its payload `exp`, epoch seconds) later: saving keeps the remaining TTL. */
export function extendGrantUntil(grant: object, exp: number): void {
  const stored = grant as { exp?: number };
  if (stored.exp !== undefined && exp > stored.exp) stored.exp = exp;
}

/** A token's (or Grant's) own TTL in seconds: BaseToken's `expiresIn` override, absent from the typings. */
export function setOwnTtl(token: object, seconds: number): void {
  (token as { expiresIn: number }).expiresIn = seconds;
}

/** Inside `provider.use` middleware the Koa app is the Provider itself (`class Provider extends Koa`). */
export function providerOf(ctx: Context): Provider {
  return ctx.app as unknown as Provider;
}

/** The names `ctx.oidc.route` takes at the endpoints that accept an authorization request (CIBA's among them). */
export const AUTHORIZATION_REQUEST_ROUTES: ReadonlySet<string> = new Set([
  'authorization',
  'pushed_authorization_request',
  'backchannel_authentication',
]);

type GrantHandler = (ctx: KoaContextWithOIDC) => Promise<void>;

/**
 * Runs `around` in place of the library's handler of one grant type at the token endpoint (after
 * client authentication, with the parameters parsed), Koa style: `next` runs the library's own
 * handler, so a check can refuse before it or act on its failure after it. The library registers each
 * handler in a private map; `registerGrantType` would replace it but cannot reach the original.
 */
export function aroundGrant(
  provider: Provider,
  grantType: string,
  around: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>,
): void {
  const handlers = instance(provider).grantTypeHandlers as Map<string, GrantHandler>;
  const original = handlers.get(grantType);
  if (!original) throw new Error(`oidc-provider has no handler for the ${grantType} grant`);
  handlers.set(grantType, (ctx) => around(ctx, () => original(ctx)));
}

/**
 * An extra client metadata property (`extraClientMetadata.properties`) as a loaded Client holds it:
 * under its metadata name (the library camelCases only the metadata it defines itself). Read so,
 * because `client.metadata()` rebuilds and snake_cases the whole metadata on every call, and these
 * are read several times per request.
 */
export function extraClientProperty(client: object, name: string): unknown {
  return (client as Record<string, unknown>)[name];
}

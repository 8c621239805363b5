import { hash } from 'node:crypto';
import type { Context } from 'koa';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';
import type { Provider } from 'oidc-provider';
import { dpopNonces } from '../engine/engine-internals.ts';
import { FAPI_ALGORITHMS } from '../protocol/algorithms.ts';
import { type ClientKind, clientKindOf } from '../protocol/client-kind.ts';
import { certificateThumbprint, type ClientCertificateReader } from './client-certificate.ts';

/**
 * The one check of access tokens presented to Assent's own APIs (run by the route guard,
 * route-guard.ts): the provider's ClientCredentials model (or, where a route wants the customer's
 * token, its AccessToken model) decides whether it is live, and the presentation must prove possession
 * of the key it is bound to, exactly as at the provider's endpoints (RFC 9449 DPoP, RFC 8705 mTLS).
 */

/** How far a DPoP proof's iat may be from now, in seconds; the library's own window. */
const DPOP_WINDOW = 300;

export class TokenRejected extends Error {
  override name = 'TokenRejected';
  readonly header: 'Authorization' | 'DPoP';
  readonly missing: boolean;
  /** The fresh server nonce of a proof refused for lacking a current one (RFC 9449 section 9); undefined otherwise. */
  readonly nonce: string | undefined;
  constructor(message: string, options: { header?: 'Authorization' | 'DPoP'; missing?: boolean; nonce?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.header = options.header ?? 'Authorization';
    this.missing = options.missing ?? false;
    this.nonce = options.nonce;
  }

  /** The OAuth error code of the refusal (RFC 6750, RFC 9449). */
  get error(): 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce' {
    if (this.nonce !== undefined) return 'use_dpop_nonce';
    return this.header === 'DPoP' ? 'invalid_dpop_proof' : 'invalid_token';
  }

  /**
   * The headers of the refusal, the same in every protocol's shape: the WWW-Authenticate challenge and,
   * for a proof without a current nonce, the nonce to retry with.
   */
  get headers(): Record<string, string> {
    const scheme = this.header === 'DPoP' ? 'DPoP' : 'Bearer';
    const challenge = `${scheme} error="${this.error}", error_description="${this.message}"`;
    return this.nonce === undefined ? { 'www-authenticate': challenge } : { 'www-authenticate': challenge, 'dpop-nonce': this.nonce };
  }
}

/** Who presented a live, sender-constrained token: what the guard puts on ctx.state.caller. */
export interface ClientCaller {
  clientId: string;
  clientKind: ClientKind;
  scopes: ReadonlySet<string>;
  /** The client's registered scope: what it may ever ask for. */
  registeredScope: ReadonlySet<string>;
  /** The grant of a customer's access token (authorization code flow); undefined for client_credentials. */
  grantId: string | undefined;
}

/** Which of the provider's token models a presented token must be: the client's own, or one a customer granted. */
export type PresentedTokenKind = 'ClientCredentials' | 'AccessToken';

interface StoredToken {
  clientId: string;
  scope?: string;
  jkt?: string;
  'x5t#S256'?: string;
  grantId?: string;
}

/**
 * RFC 9449 section 9: with server nonces on, the proof must carry one the provider handed out lately
 * (at /request (PAR), /token or any of Assent's APIs: one source, good at every instance), which bounds its age
 * instead of `iat`; a proof without one is refused with a fresh nonce to retry with. A proof that passes
 * with a nonce about to roll gets the next one on the answer (as the provider's endpoints do).
 */
function checkNonce(provider: Provider, ctx: Context, nonce: unknown): 'checked' | 'off' {
  const nonces = dpopNonces(provider);
  if (!nonces) return 'off';
  const next = nonces.nextChallenge();
  if (nonce === undefined) throw new TokenRejected('a DPoP nonce is required in the DPoP proof', { header: 'DPoP', nonce: next });
  if (typeof nonce !== 'string') throw new TokenRejected('DPoP proof nonce must be a string', { header: 'DPoP' });
  if (!nonces.checkChallenge(nonce)) throw new TokenRejected('the DPoP proof nonce is not current', { header: 'DPoP', nonce: next });
  if (nonce !== next) ctx.set('dpop-nonce', next);
  return 'checked';
}

async function verifyDpopProof(provider: Provider, ctx: Context, token: string, clientId: string): Promise<string> {
  const proof = ctx.get('dpop');
  if (!proof) throw new TokenRejected('a DPoP proof is required for this token', { header: 'DPoP', missing: true });
  let payload;
  let jwk;
  try {
    ({
      payload,
      protectedHeader: { jwk },
    } = await jwtVerify(proof, EmbeddedJWK, { algorithms: [...FAPI_ALGORITHMS], typ: 'dpop+jwt' }));
  } catch (cause) {
    throw new TokenRejected('the DPoP proof is not valid', { header: 'DPoP', cause });
  }
  const expectedUrl = new URL(ctx.path, provider.issuer).href;
  const htu = typeof payload.htu === 'string' ? URL.parse(payload.htu) : null;
  if (htu) {
    htu.search = '';
    htu.hash = '';
  }
  const checks: [boolean, string][] = [
    [typeof payload.jti === 'string' && payload.jti.length > 0, 'jti is missing'],
    // Required even when a server nonce bounds the proof's age instead (RFC 9449 section 4.2).
    [typeof payload.iat === 'number' && payload.iat > 0, 'iat is missing'],
    [payload.htm === ctx.method, 'htm does not match the request method'],
    [htu?.href === expectedUrl, 'htu does not match the request URL'],
    [payload.ath === hash('sha256', token, 'base64url'), 'ath does not match the access token'],
  ];
  const failed = checks.find(([ok]) => !ok);
  if (failed) throw new TokenRejected(`DPoP proof ${failed[1]}`, { header: 'DPoP' });
  if (checkNonce(provider, ctx, payload.nonce) === 'off') {
    const recent = typeof payload.iat === 'number' && Math.abs(Math.floor(Date.now() / 1000) - payload.iat) <= DPOP_WINDOW;
    if (!recent) throw new TokenRejected('DPoP proof iat is not recent', { header: 'DPoP' });
  }
  const unique = await provider.ReplayDetection.unique(clientId, payload.jti as string, Math.floor(Date.now() / 1000) + DPOP_WINDOW);
  if (!unique) throw new TokenRejected('DPoP proof replayed', { header: 'DPoP' });
  return calculateJwkThumbprint(jwk!);
}

/**
 * The token must be live in the provider's model of its kind (ClientCredentials for Assent's own APIs,
 * AccessToken where UK OB wants the customer's token) and presented with proof of its binding.
 */
export async function verifyPresentedToken(
  provider: Provider,
  presentedCertificate: ClientCertificateReader,
  ctx: Context,
  kind: PresentedTokenKind,
): Promise<ClientCaller> {
  const authorization = ctx.get('authorization');
  if (!authorization) throw new TokenRejected('an access token is required', { missing: true });
  const [scheme = '', value = '', ...rest] = authorization.split(' ');
  if (!/^(dpop|bearer)$/i.test(scheme) || !value || rest.length > 0)
    throw new TokenRejected('the Authorization header must be "DPoP <token>" or "Bearer <token>"');
  const found = kind === 'AccessToken' ? await provider.AccessToken.find(value) : await provider.ClientCredentials.find(value);
  const token = found as unknown as StoredToken | undefined;
  if (!token) throw new TokenRejected('the access token is not active');
  const client = await provider.Client.find(token.clientId);
  if (!client) throw new TokenRejected('the access token is not active');

  if (token.jkt) {
    if (scheme.toLowerCase() !== 'dpop') throw new TokenRejected('a DPoP-bound token must be presented with the DPoP scheme');
    const thumbprint = await verifyDpopProof(provider, ctx, value, token.clientId);
    if (thumbprint !== token.jkt) throw new TokenRejected('the DPoP proof key is not the key the token is bound to', { header: 'DPoP' });
  } else if (token['x5t#S256']) {
    const presented = presentedCertificate(ctx.req);
    if (!presented || certificateThumbprint(presented.certificate) !== token['x5t#S256']) {
      throw new TokenRejected('the client certificate is not the one the token is bound to');
    }
  } else {
    throw new TokenRejected('the access token is not sender-constrained');
  }

  return {
    clientId: token.clientId,
    clientKind: clientKindOf(client.metadata()),
    scopes: new Set((token.scope ?? '').split(' ').filter(Boolean)),
    registeredScope: new Set((client.scope ?? '').split(' ').filter(Boolean)),
    grantId: token.grantId,
  };
}

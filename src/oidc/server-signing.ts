import { CompactSign } from 'jose';
import type { Provider } from 'oidc-provider';
import { currentSigningKey } from '../engine/engine-internals.ts';

/** Assent signs its own JWTs (event notifications) with PS256, the algorithm of its ID tokens. */
export const SERVER_SIGNING_ALG = 'PS256';

export class NoSigningKey extends Error {
  override name = 'NoSigningKey';
}

/**
 * Signs a JWT with the key the provider itself signs with now: the same keystore, so rotation
 * (oidc/key-rotation.ts) applies and the published JWKS verifies it. Keys marked verify-only are
 * never chosen.
 */
export async function signWithServerKey(provider: Provider, payload: Record<string, unknown>, typ: string): Promise<string> {
  const jwk = currentSigningKey(provider, SERVER_SIGNING_ALG);
  if (!jwk) throw new NoSigningKey(`no ${SERVER_SIGNING_ALG} key may sign now`);
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: SERVER_SIGNING_ALG, typ, ...(jwk.kid && { kid: jwk.kid }) })
    .sign(jwk);
}

import { CompactSign } from 'jose';
import type { Provider } from 'oidc-provider';
import { currentSigningKey } from '../engine/engine-internals.ts';
import { FAPI_ALGORITHMS } from '../protocol/algorithms.ts';

export class NoSigningKey extends Error {
  override name = 'NoSigningKey';
}

/**
 * Signs a JWT with a key the provider itself signs with now: the same keystore, so rotation
 * (oidc/key-rotation.ts) applies and the published JWKS verifies it, and keys marked verify-only are
 * never chosen. PS256 (the algorithm of Assent's ID tokens) when such a key may sign, else ES256.
 */
export async function signWithServerKey(provider: Provider, payload: Record<string, unknown>, typ: string): Promise<string> {
  for (const alg of FAPI_ALGORITHMS) {
    const jwk = currentSigningKey(provider, alg);
    if (!jwk) continue;
    return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg, typ, ...(jwk.kid && { kid: jwk.kid }) })
      .sign(jwk);
  }
  throw new NoSigningKey(`no key may sign now (${FAPI_ALGORITHMS.join(', ')})`);
}

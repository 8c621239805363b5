import type { Configuration } from 'oidc-provider';
import { dpopNonceSecret, type ServerKeys } from './keys.ts';

/**
 * DPoP server nonces (RFC 9449 sections 8 and 9) at the provider's own endpoints (/par, /token, /me):
 * with `required`, a proof without a current nonce is answered 400 (401 at /me) `use_dpop_nonce` with a
 * fresh `DPoP-Nonce`. The nonces are the library's: an HKDF of the secret over 60-second steps, a new one
 * handed out each minute and the two before still accepted, so a nonce lives a few minutes and nothing is
 * stored. Assent's own APIs check the same nonces through the provider (http/presented-token.ts). With
 * `off` the provider has no nonce secret at all: proofs carry none and their `iat` alone bounds them.
 */
export function dpopFeature(keys: Pick<ServerKeys, 'cookie'>, mode: 'required' | 'off'): NonNullable<Configuration['features']>['dPoP'] {
  if (mode === 'off') return { enabled: true };
  return { enabled: true, nonceSecret: dpopNonceSecret(keys), requireNonce: () => true };
}

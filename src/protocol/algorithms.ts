/**
 * FAPI 2.0 permits these two JWS algorithms and no others, for every signature the server sees or makes:
 * the provider's enabledJWA, Assent's signing keys, software statements and DPoP proofs at Assent's APIs.
 */
export const FAPI_ALGORITHMS = ['PS256', 'ES256'] as const;

export type FapiAlgorithm = (typeof FAPI_ALGORITHMS)[number];

/** FAPI 2.0 client authentication; `tls_client_auth` is listed explicitly or discovery omits it. */
export const FAPI_CLIENT_AUTH_METHODS = ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'] as const;

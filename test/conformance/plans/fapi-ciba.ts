import type { CatalogueModule, Variant } from '../../support/conformance.ts';

/**
 * The suite's FAPI-CIBA ID1 plan (FAPICIBAID1TestPlan) as Assent runs it: the UK Open Banking profile,
 * statically registered clients, each client authentication (private_key_jwt, mtls) in each delivery mode
 * Assent offers (poll, ping). Tokens are bound to the client certificate in every variant, as FAPI-CIBA
 * (on FAPI 1.0 Advanced) requires. `push` is not a variant: Assent refuses it, and FAPI-CIBA forbids it.
 */

export type CibaClientAuth = 'private_key_jwt' | 'mtls';
export type CibaMode = 'poll' | 'ping';

export function cibaVariant(clientAuth: CibaClientAuth, mode: CibaMode): Variant {
  return { client_auth_type: clientAuth, fapi_ciba_profile: 'openbanking_uk', ciba_mode: mode, client_registration: 'static_client' };
}

export const CIBA_VARIANTS: readonly Variant[] = [
  cibaVariant('private_key_jwt', 'poll'),
  cibaVariant('private_key_jwt', 'ping'),
  cibaVariant('mtls', 'poll'),
  cibaVariant('mtls', 'ping'),
];

const PRIVATE_KEY_JWT_ONLY = CIBA_VARIANTS.filter((variant) => variant.client_auth_type === 'private_key_jwt');
const MTLS_ONLY = CIBA_VARIANTS.filter((variant) => variant.client_auth_type === 'mtls');
const PING_ONLY = CIBA_VARIANTS.filter((variant) => variant.ciba_mode === 'ping');

const plan = 'fapi-ciba-id1-test-plan' as const;
const every = (module: string): CatalogueModule => ({ plan, module, variants: CIBA_VARIANTS });
const only = (module: string, variants: readonly Variant[]): CatalogueModule => ({ plan, module, variants });
const notApplicable = (module: string, why: string): CatalogueModule => ({ plan, module, notApplicable: why });

const BRAZIL = 'runs only in the openbanking_brazil profile (Open Finance Brasil); Assent speaks UK Open Banking';
const CONNECT_ID =
  'runs only in the connectid_au profile (ConnectID: card login hints, 3DS payment details, purpose statements); Assent speaks UK Open Banking';

/** The modules of the suite's `fapi-ciba-id1-test-plan`, in its order. */
export const CIBA_PLAN: readonly CatalogueModule[] = [
  every('fapi-ciba-id1-discovery-end-point-verification'),
  notApplicable('fapi-ciba-id1-brazil-discovery-end-point-verification', BRAZIL),
  every('fapi-ciba-id1'),
  every('fapi-ciba-id1-user-rejects-authentication'),
  every('fapi-ciba-id1-multiple-call-to-token-endpoint'),
  every('fapi-ciba-id1-auth-req-id-expired'),
  every('fapi-ciba-id1-ensure-authorization-request-with-binding-message-succeeds'),
  every('fapi-ciba-id1-ensure-other-scope-order-succeeds'),
  every('fapi-ciba-id1-ensure-requested-expiry-as-string-succeeds'),
  notApplicable('fapi-ciba-id1-ensure-requested-expiry-is-ignored-for-brazil', BRAZIL),
  every('fapi-ciba-id1-ensure-authorization-request-with-potentially-bad-binding-message'),
  every('fapi-ciba-id1-ensure-request-object-missing-aud-fails'),
  every('fapi-ciba-id1-ensure-request-object-bad-aud-fails'),
  every('fapi-ciba-id1-ensure-request-object-missing-iss-fails'),
  every('fapi-ciba-id1-ensure-request-object-bad-iss-fails'),
  every('fapi-ciba-id1-ensure-request-object-missing-exp-fails'),
  every('fapi-ciba-id1-ensure-request-object-expired-exp-fails'),
  every('fapi-ciba-id1-ensure-request-object-exp-is-70-minutes-in-future-fails'),
  every('fapi-ciba-id1-ensure-request-object-missing-iat-fails'),
  every('fapi-ciba-id1-ensure-request-object-missing-nbf-fails'),
  every('fapi-ciba-id1-ensure-request-object-nbf-is-10-minutes-in-future-fails'),
  every('fapi-ciba-id1-ensure-request-object-nbf-is-70-minutes-in-past-fails'),
  every('fapi-ciba-id1-ensure-request-object-missing-jti-fails'),
  every('fapi-ciba-id1-ensure-request-object-signature-algorithm-is-none-fails'),
  every('fapi-ciba-id1-ensure-request-object-signature-algorithm-is-bad-fails'),
  every('fapi-ciba-id1-ensure-request-object-signature-algorithm-is-RS256-fails'),
  every('fapi-ciba-id1-ensure-request-object-signed-by-other-client-fails'),
  every('fapi-ciba-id1-ensure-authorization-request-with-multiple-hints-fails'),
  every('fapi-ciba-id1-ensure-wrong-auth-req-id-in-token-endpoint-request'),
  only('fapi-ciba-id1-ensure-different-client-id-and-issuer-in-backchannel-authorization-request', MTLS_ONLY),
  only('fapi-ciba-id1-ensure-wrong-client-id-in-token-endpoint-request', MTLS_ONLY),
  only('fapi-ciba-id1-ensure-wrong-client-id-in-backchannel-authorization-request', MTLS_ONLY),
  only('fapi-ciba-id1-ensure-without-client-assertion-in-token-endpoint-request', PRIVATE_KEY_JWT_ONLY),
  only('fapi-ciba-id1-ensure-without-client-assertion-in-backchannel-authorization-request', PRIVATE_KEY_JWT_ONLY),
  only(
    'fapi-ciba-id1-ensure-client-assertion-signature-algorithm-in-backchannel-authorization-request-is-RS256-fails',
    PRIVATE_KEY_JWT_ONLY,
  ),
  only('fapi-ciba-id1-ensure-client-assertion-signature-algorithm-in-token-endpoint-request-is-RS256-fails', PRIVATE_KEY_JWT_ONLY),
  only('fapi-ciba-id1-ensure-client-assertion-with-iss-aud-to-token-endpoint-succeeds', PRIVATE_KEY_JWT_ONLY),
  only('fapi-ciba-id1-ping-backchannel-notification-endpoint-response-has-body', PING_ONLY),
  only('fapi-ciba-id1-ping-backchannel-notification-endpoint-response-401', PING_ONLY),
  only('fapi-ciba-id1-ping-backchannel-notification-endpoint-response-403', PING_ONLY),
  only('fapi-ciba-id1-ping-with-mtls-ciba-notification-endpoint-response-401-and-require-server-does-not-retry', PING_ONLY),
  only('fapi-ciba-id1-ping-backchannel-notification-endpoint-return-redirect-request', PING_ONLY),
  every('fapi-ciba-id1-ensure-unsigned-backchannel-authorization-request-fails'),
  every('fapi-ciba-id1-refresh-token'),
  every('fapi-ciba-id1-ensure-mtls-holder-of-key-required'),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-with-purpose-succeeds', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-txn-returned-when-not-requested', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-with-3ds-card-login-hint-succeeds', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-with-3ds-payment-authorization-details-succeeds', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-with-non-ascii-purpose', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-without-binding-message-fails', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-with-too-short-purpose-fails', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-with-too-long-purpose-fails', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-with-id-token-hint-fails', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-with-login-hint-token-fails', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-with-malformed-card-login-hint-fails', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-with-wrong-3ds-payment-authorization-details-type-fails', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-without-3ds-payment-instructed-amount-fails', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-without-3ds-payment-amount-fails', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-with-malformed-3ds-payment-amount-fails', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-without-3ds-payment-currency-fails', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-with-malformed-3ds-payment-currency-fails', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-without-3ds-payment-source-account-fails', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-with-malformed-3ds-payment-source-account-fails', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-without-3ds-payment-beneficiary-name-fails', CONNECT_ID),
  notApplicable('fapi-ciba-id1-connectid-ensure-authorization-request-without-3ds-payment-desc-fails', CONNECT_ID),
];

import type { Credential, Method, Psd2Role, Route } from './route-row.ts';

/**
 * The Berlin Group NextGenPSD2 routes, one row each in the route table's shape (./routes.ts), with the
 * Berlin Group's own operationIds (NextGenPSD2 OpenAPI file v1.3.11: createConsent, getConsentInformation,
 * deleteConsent, getConsentStatus, startConsentAuthorisation, getConsentAuthorisation, getConsentScaStatus,
 * initiatePayment, getPaymentInformation, cancelPayment, getPaymentInitiationStatus,
 * startPaymentAuthorisation, getPaymentInitiationAuthorisation, getPaymentInitiationScaStatus). The file's
 * payment paths are /v1/{payment-service}/{payment-product}/...; Assent offers the payment-service
 * `payments` (single payments) only, so it is part of the path, and {payment-product} is checked by the
 * handler (berlin-group/bg-payment-request.ts: PRODUCT_UNKNOWN for any but the two SEPA products).
 *
 * Every row of ROUTES must be served (test/routes.test.ts, test/api-inventory.test.ts,
 * test/declared-routes.test.ts): ROUTES holds the AIS consent rows (BG_SERVED_ROUTES, served by
 * berlin-group/ais-router.ts); the authorisation and payment rows join it when a router serves them.
 */

export const BG_PREFIX = '/v1';

const CONSENT = `${BG_PREFIX}/consents/:consentId`;
const PAYMENTS = `${BG_PREFIX}/payments/:paymentProduct`;
const PAYMENT = `${PAYMENTS}/:paymentId`;

const eidas = (role: Psd2Role): Credential => ({ kind: 'eidas_certificate', role });
const AIS = eidas('PSP_AI');
const PIS = eidas('PSP_PI');

const row = (operationId: string, method: Method, path: string, credential: Credential, purpose: string): Route => ({
  method,
  path,
  servedBy: 'assent',
  caller: 'tpp',
  purpose: `Berlin Group: ${purpose}`,
  operationId,
  credential,
});

export const BG_ROUTES: readonly Route[] = [
  row('createConsent', 'POST', `${BG_PREFIX}/consents`, AIS, 'creates an account information consent'),
  row('getConsentInformation', 'GET', CONSENT, AIS, 'reads an account information consent'),
  row('deleteConsent', 'DELETE', CONSENT, AIS, 'terminates an account information consent (terminatedByTpp)'),
  row('getConsentStatus', 'GET', `${CONSENT}/status`, AIS, "an account information consent's status"),
  row('startConsentAuthorisation', 'POST', `${CONSENT}/authorisations`, AIS, "starts a consent's authorisation (explicit start)"),
  row('getConsentAuthorisation', 'GET', `${CONSENT}/authorisations`, AIS, "the ids of a consent's authorisations"),
  row('getConsentScaStatus', 'GET', `${CONSENT}/authorisations/:authorisationId`, AIS, "a consent authorisation's SCA status"),
  row('initiatePayment', 'POST', PAYMENTS, PIS, 'initiates a SEPA (instant) credit transfer'),
  row('getPaymentInformation', 'GET', PAYMENT, PIS, 'reads a payment initiation'),
  row('cancelPayment', 'DELETE', PAYMENT, PIS, 'cancels a payment initiation not yet authorised'),
  row('getPaymentInitiationStatus', 'GET', `${PAYMENT}/status`, PIS, "a payment initiation's transaction status"),
  row('startPaymentAuthorisation', 'POST', `${PAYMENT}/authorisations`, PIS, "starts a payment's authorisation (explicit start)"),
  row('getPaymentInitiationAuthorisation', 'GET', `${PAYMENT}/authorisations`, PIS, "the ids of a payment's authorisations"),
  row('getPaymentInitiationScaStatus', 'GET', `${PAYMENT}/authorisations/:authorisationId`, PIS, "a payment authorisation's SCA status"),
];

/** The operations Assent serves today: the AIS consent resource and its authorisations (berlin-group/ais-router.ts). */
export const BG_SERVED_OPERATIONS = [
  'createConsent',
  'getConsentInformation',
  'deleteConsent',
  'getConsentStatus',
  'startConsentAuthorisation',
  'getConsentAuthorisation',
  'getConsentScaStatus',
] as const;

export const BG_SERVED_ROUTES: readonly Route[] = BG_ROUTES.filter((route) =>
  (BG_SERVED_OPERATIONS as readonly (string | undefined)[]).includes(route.operationId),
);

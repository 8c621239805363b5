import { z } from 'zod';
import { consentRequestSchema } from '../berlin-group/bg-consent-request.ts';
import { PAYMENT_PRODUCTS, paymentRequestSchema } from '../berlin-group/bg-payment-request.ts';
import { BG_TRANSACTION_STATUSES } from '../berlin-group/bg-status.ts';
import { type ApiPart, header, jsonBody, jsonSchema, type OperationDetail } from './api-part.ts';

/**
 * The Berlin Group NextGenPSD2 (v1.3.x) AIS consent and payment initiation resources, with the Berlin
 * Group's own operationIds: the request bodies from the same zod schemas that validate them
 * (berlin-group/bg-consent-request.ts, bg-payment-request.ts), the answers as berlin-group/bg-consent-mapping.ts
 * and bg-payment-mapping.ts build them, every error as the NextGenPSD2 tppMessages envelope
 * (berlin-group/bg-error.ts). The TPP is known by its eIDAS certificate (QWAC) over mTLS, no registration.
 */

/** berlin-group/bg-status.ts BgConsentStatus: the file's values plus terminatedByAspsp (a consent the bank ended). */
const CONSENT_STATUSES = ['received', 'rejected', 'valid', 'revokedByPsu', 'expired', 'terminatedByTpp', 'terminatedByAspsp'] as const;

const consentStatus = z.enum(CONSENT_STATUSES);
const links = z.record(z.string(), z.object({ href: z.string() }));

const consentsResponse201 = z.object({ consentStatus, consentId: z.string(), _links: links });
const consentInformationResponse200 = z.object({
  access: consentRequestSchema().shape.access,
  recurringIndicator: z.boolean(),
  validUntil: z.string().describe('ISODate: the last bank date the consent is valid on, as granted'),
  frequencyPerDay: z.int(),
  lastActionDate: z.string().describe('ISODate: the bank date of the last status change'),
  consentStatus,
  _links: links.optional(),
});
const consentStatusResponse200 = z.object({ consentStatus });
/** berlin-group/bg-status.ts BgScaStatus. */
const scaStatus = z.enum(['received', 'started', 'psuAuthenticated', 'finalised', 'failed']);
const startScaprocessResponse = z.object({ scaStatus, authorisationId: z.string(), _links: links });
const authorisations = z.object({ authorisationIds: z.array(z.string()) });
const scaStatusResponse = z.object({ scaStatus });

const transactionStatus = z.enum(BG_TRANSACTION_STATUSES);
const paymentInitiationResponse201 = z.object({ transactionStatus, paymentId: z.string(), _links: links });
/** Both products take the same body; the date rules (not before today, an instant one today) do not show in a schema. */
const paymentInitiationJson = paymentRequestSchema('sepa-credit-transfers', '0001-01-01');
/** The request's fields as stored, with the payment's transactionStatus (berlin-group/bg-payment-mapping.ts). */
const paymentInitiationWithStatusResponse = paymentInitiationJson.safeExtend({ transactionStatus });
const paymentInitiationStatusResponse200 = z.object({ transactionStatus });
const tppMessages = z.object({
  tppMessages: z.array(
    z.object({
      category: z.literal('ERROR'),
      code: z.string().describe('a NextGenPSD2 message code (FORMAT_ERROR, CONSENT_UNKNOWN, ROLE_INVALID, ...)'),
      path: z.string().optional(),
      text: z.string(),
    }),
  ),
  _links: links.optional(),
});

const REQUEST_ID = {
  ...header('X-Request-ID', true, 'ID of the request, a UUID; echoed on every answer when well formed'),
  schema: { type: 'string', format: 'uuid' },
};
const SIGNATURE_HEADERS = [
  header('Digest', false, 'required where the bank requires signed requests (BERLIN_GROUP_SIGNED_REQUESTS=required)'),
  header('Signature', false, 'required where the bank requires signed requests'),
  header('TPP-Signature-Certificate', false, "the TPP's QSealC, base64; required where the bank requires signed requests"),
];
const CONSENT_ID = {
  name: 'consentId',
  in: 'path',
  required: true,
  description: 'the consentId given at creation',
  schema: { type: 'string' },
};
const AUTHORISATION_ID = {
  name: 'authorisationId',
  in: 'path',
  required: true,
  description: 'an authorisationId of this consent or payment',
  schema: { type: 'string' },
};
const PAYMENT_PRODUCT = {
  name: 'paymentProduct',
  in: 'path',
  required: true,
  description: "the payment product: an unknown one is PRODUCT_UNKNOWN (404), one not the payment's PRODUCT_INVALID (403)",
  schema: { type: 'string', enum: Object.keys(PAYMENT_PRODUCTS) },
};
const PAYMENT_ID = {
  name: 'paymentId',
  in: 'path',
  required: true,
  description: 'the paymentId given at initiation',
  schema: { type: 'string' },
};
const RESPONSE_HEADERS = { 'X-Request-ID': { schema: { type: 'string', format: 'uuid' } } };
const SCA_HEADERS = [
  header('PSU-ID', false, 'the customer, as the bank knows them; required for DECOUPLED'),
  header('TPP-Redirect-Preferred', false, 'true or false; false asks for DECOUPLED'),
  header('TPP-Decoupled-Preferred', false, "true or false; true asks for DECOUPLED (the customer's authentication device)"),
];

const failure = (description: string) => ({ description, headers: RESPONSE_HEADERS, content: jsonBody('BgTppMessages') });
const FAILURES = {
  '400': failure('FORMAT_ERROR (a header, the path or the body), PARAMETER_NOT_SUPPORTED, SESSIONS_NOT_SUPPORTED'),
  '401': failure('CERTIFICATE_INVALID, CERTIFICATE_EXPIRED, CERTIFICATE_BLOCKED, ROLE_INVALID (the QWAC lacks PSP_AI), SIGNATURE_INVALID'),
  '403': failure('CONSENT_UNKNOWN: no such consent of this TPP'),
  '405': failure('SERVICE_INVALID: this method is not supported on this resource'),
  '409': failure('STATUS_INVALID: the consent has already ended, or no longer allows an authorisation'),
  '413': { description: 'the body is over the limit (no body)' },
  '415': { description: 'the body is not JSON (no body)' },
  '429': { description: 'throttled (no body, Retry-After)' },
  '503': { description: 'the database is unavailable (no body, Retry-After)' },
};
const without = (...statuses: (keyof typeof FAILURES)[]) =>
  Object.fromEntries(Object.entries(FAILURES).filter(([status]) => !(statuses as string[]).includes(status)));

/** The payment resource's failures (the consent's 403 and 409 do not arise; its own 403, 404 and 405 do). */
const PAYMENT_FAILURES = {
  ...without('403', '409'),
  '400': failure('FORMAT_ERROR (a header, the path or the body: an IBAN, the amount, the currency), EXECUTION_DATE_INVALID'),
  '401': failure('CERTIFICATE_INVALID, CERTIFICATE_EXPIRED, CERTIFICATE_BLOCKED, ROLE_INVALID (the QWAC lacks PSP_PI), SIGNATURE_INVALID'),
  '403': failure("RESOURCE_UNKNOWN: no such payment of this TPP; PRODUCT_INVALID: the path's product is not the payment's"),
  '404': failure('PRODUCT_UNKNOWN: the bank offers no such payment product'),
};
const paymentFailures = (...statuses: string[]) =>
  Object.fromEntries(Object.entries(PAYMENT_FAILURES).filter(([status]) => !statuses.includes(status)));

const operations: Record<string, OperationDetail> = {
  createConsent: {
    summary: 'Create an account information consent',
    description:
      "REDIRECT is the OAuth2 SCA approach: `_links.scaOAuth` is the RFC 8414 metadata of Assent, where the TPP, authenticating with its QWAC (tls_client_auth, no registration), runs the FAPI flow (PAR, PKCE) for scope `AIS:<consentId>` (or authorization_details `[{type: account_information, consent_id}]`) with exactly the TPP-Redirect-URI as its redirect_uri, and gets tokens bound to the QWAC. DECOUPLED (TPP-Decoupled-Preferred: true or TPP-Redirect-Preferred: false, with PSU-ID) sends the authorisation to the customer's authentication device; no token is issued, the consent becomes valid. Unless TPP-Explicit-Authorisation-Preferred is true, an authorisation is started with the consent (`_links.scaStatus`); otherwise `_links.startAuthorisation`. Several recurring consents of one TPP may be valid at once.",
    parameters: [
      REQUEST_ID,
      header(
        'TPP-Redirect-URI',
        false,
        'required for REDIRECT: where the customer returns after the SCA; the authorization for this consent accepts exactly it',
      ),
      header('TPP-Nok-Redirect-URI', false, 'where the customer returns when the SCA failed'),
      header('PSU-IP-Address', false, 'the customer is present when given (frequencyPerDay counts accesses without it)'),
      ...SCA_HEADERS,
      header(
        'TPP-Explicit-Authorisation-Preferred',
        false,
        'true: no authorisation is started with the consent (`_links.startAuthorisation`)',
      ),
      ...SIGNATURE_HEADERS,
    ],
    requestBody: { required: true, content: jsonBody('BgConsentsRequest') },
    responses: {
      '201': {
        description: 'received; where to authorise it (scaOAuth), itself and its status',
        headers: {
          ...RESPONSE_HEADERS,
          'ASPSP-SCA-Approach': { schema: { type: 'string', enum: ['REDIRECT', 'DECOUPLED'] } },
          Location: { schema: { type: 'string' } },
        },
        content: jsonBody('BgConsentsResponse201'),
      },
      ...without('403', '409'),
    },
  },
  startConsentAuthorisation: {
    summary: 'Start an authorisation of an account information consent',
    description:
      'Starts another authorisation sub-resource while the consent awaits the customer (explicit start), in the approach the headers choose as for createConsent; the redirect URI is the one given at creation. A consent no longer awaiting the customer is STATUS_INVALID (409).',
    parameters: [CONSENT_ID, REQUEST_ID, ...SCA_HEADERS, ...SIGNATURE_HEADERS],
    responses: {
      '201': {
        description: 'started: its scaStatus, authorisationId and _links (scaOAuth for REDIRECT, scaStatus)',
        headers: { ...RESPONSE_HEADERS, 'ASPSP-SCA-Approach': { schema: { type: 'string', enum: ['REDIRECT', 'DECOUPLED'] } } },
        content: jsonBody('BgStartScaprocessResponse'),
      },
      ...without('413', '415'),
    },
  },
  getConsentAuthorisation: {
    summary: 'The authorisations of an account information consent',
    parameters: [CONSENT_ID, REQUEST_ID, ...SIGNATURE_HEADERS],
    responses: {
      '200': { description: 'their ids, oldest first', headers: RESPONSE_HEADERS, content: jsonBody('BgAuthorisations') },
      ...without('409', '413', '415'),
    },
  },
  getConsentScaStatus: {
    summary: "An authorisation's SCA status",
    description:
      "received (started, by redirect), started (the customer's device was asked), finalised (the customer authorised the consent, whatever became of it since), failed (rejected, withdrawn, the device's request expired undecided, or superseded by a later authorisation).",
    parameters: [CONSENT_ID, AUTHORISATION_ID, REQUEST_ID, ...SIGNATURE_HEADERS],
    responses: {
      '200': { description: 'its scaStatus', headers: RESPONSE_HEADERS, content: jsonBody('BgScaStatusResponse') },
      '404': failure('RESOURCE_UNKNOWN: no such authorisation of this consent'),
      ...without('409', '413', '415'),
    },
  },
  getConsentInformation: {
    summary: 'Read an account information consent',
    parameters: [CONSENT_ID, REQUEST_ID, ...SIGNATURE_HEADERS],
    responses: {
      '200': { description: 'the consent as granted', headers: RESPONSE_HEADERS, content: jsonBody('BgConsentInformationResponse200') },
      ...without('409', '413', '415'),
    },
  },
  getConsentStatus: {
    summary: "An account information consent's status",
    parameters: [CONSENT_ID, REQUEST_ID, ...SIGNATURE_HEADERS],
    responses: {
      '200': { description: 'its consentStatus', headers: RESPONSE_HEADERS, content: jsonBody('BgConsentStatusResponse200') },
      ...without('409', '413', '415'),
    },
  },
  deleteConsent: {
    summary: 'Terminate an account information consent',
    description:
      'Ends the consent for the TPP (terminatedByTpp): one awaiting the customer is withdrawn, an authorised one revoked with every token of it.',
    parameters: [CONSENT_ID, REQUEST_ID, ...SIGNATURE_HEADERS],
    responses: {
      '204': { description: 'terminated (terminatedByTpp)', headers: RESPONSE_HEADERS },
      ...without('413', '415'),
    },
  },
};

const paymentOperations: Record<string, OperationDetail> = {
  initiatePayment: {
    summary: 'Initiate a SEPA credit transfer or an instant one',
    description:
      'A single payment in EUR (the amount an exact decimal string, at most two fraction digits), from and to IBANs (check digits verified). The OAuth2 SCA approach (ASPSP-SCA-Approach REDIRECT): `_links.scaOAuth` is the RFC 8414 metadata of Assent, where the TPP runs the FAPI flow for scope `PIS:<paymentId>` with TPP-Redirect-URI as its redirect_uri. transactionStatus RCVD until the customer authorises it (ACTC), ACSP once the bank took it for execution.',
    parameters: [
      PAYMENT_PRODUCT,
      REQUEST_ID,
      header('PSU-IP-Address', true, "the customer's IP address: a payment is initiated with the customer present"),
      header('TPP-Redirect-URI', true, 'where the customer returns after the SCA; the authorization for this payment accepts exactly it'),
      header('TPP-Nok-Redirect-URI', false, 'where the customer returns when the SCA failed'),
      header('PSU-ID', false, 'the customer, as the bank knows them'),
      header('TPP-Redirect-Preferred', false, 'true or false'),
      header('TPP-Decoupled-Preferred', false, 'true or false; this bank offers REDIRECT'),
      header(
        'TPP-Explicit-Authorisation-Preferred',
        false,
        'true: no authorisation is started with the payment (`_links.startAuthorisation`); otherwise one is (`_links.scaStatus`)',
      ),
      ...SIGNATURE_HEADERS,
    ],
    requestBody: { required: true, content: jsonBody('BgPaymentInitiationJson') },
    responses: {
      '201': {
        description: 'received (RCVD); where to authorise it (scaOAuth), itself and its status',
        headers: {
          ...RESPONSE_HEADERS,
          'ASPSP-SCA-Approach': { schema: { type: 'string', enum: ['REDIRECT'] } },
          Location: { schema: { type: 'string' } },
        },
        content: jsonBody('BgPaymentInitiationResponse201'),
      },
      ...paymentFailures('403'),
    },
  },
  getPaymentInformation: {
    summary: 'Read a payment initiation',
    parameters: [PAYMENT_PRODUCT, PAYMENT_ID, REQUEST_ID, ...SIGNATURE_HEADERS],
    responses: {
      '200': {
        description: 'the payment as initiated, with its transactionStatus',
        headers: RESPONSE_HEADERS,
        content: jsonBody('BgPaymentInitiationWithStatusResponse'),
      },
      ...paymentFailures('413', '415'),
    },
  },
  getPaymentInitiationStatus: {
    summary: "A payment initiation's transaction status",
    parameters: [PAYMENT_PRODUCT, PAYMENT_ID, REQUEST_ID, ...SIGNATURE_HEADERS],
    responses: {
      '200': { description: 'its transactionStatus', headers: RESPONSE_HEADERS, content: jsonBody('BgPaymentInitiationStatusResponse200') },
      ...paymentFailures('413', '415'),
    },
  },
  cancelPayment: {
    summary: 'Cancel a payment initiation the customer has not authorised yet',
    description:
      "A payment still awaiting the customer is cancelled at once (204, transactionStatus CANC; no cancellation authorisation). Once the customer authorised it, it is the bank's to execute: CANCELLATION_INVALID (405), as for a payment that has ended.",
    parameters: [PAYMENT_PRODUCT, PAYMENT_ID, REQUEST_ID, ...SIGNATURE_HEADERS],
    responses: {
      '204': { description: 'cancelled (CANC)', headers: RESPONSE_HEADERS },
      ...paymentFailures('413', '415'),
      '405': failure('CANCELLATION_INVALID: the payment is authorised or has ended; SERVICE_INVALID: this method is not supported'),
    },
  },
  startPaymentAuthorisation: {
    summary: 'Start an authorisation of a payment initiation',
    description:
      'Starts another authorisation sub-resource while the payment awaits the customer (explicit start, or after an earlier one failed), by REDIRECT (the OAuth2 SCA approach: scope `PIS:<paymentId>`, the redirect URI given at initiation). A payment no longer awaiting the customer is STATUS_INVALID (409).',
    parameters: [PAYMENT_PRODUCT, PAYMENT_ID, REQUEST_ID, ...SCA_HEADERS, ...SIGNATURE_HEADERS],
    responses: {
      '201': {
        description: 'started: its scaStatus, authorisationId and _links (scaOAuth, scaStatus)',
        headers: { ...RESPONSE_HEADERS, 'ASPSP-SCA-Approach': { schema: { type: 'string', enum: ['REDIRECT'] } } },
        content: jsonBody('BgStartScaprocessResponse'),
      },
      ...paymentFailures('413', '415'),
      '409': failure('STATUS_INVALID: the payment no longer awaits the customer'),
    },
  },
  getPaymentInitiationAuthorisation: {
    summary: 'The authorisations of a payment initiation',
    parameters: [PAYMENT_PRODUCT, PAYMENT_ID, REQUEST_ID, ...SIGNATURE_HEADERS],
    responses: {
      '200': { description: 'their ids, oldest first', headers: RESPONSE_HEADERS, content: jsonBody('BgAuthorisations') },
      ...paymentFailures('413', '415'),
    },
  },
  getPaymentInitiationScaStatus: {
    summary: "A payment authorisation's SCA status",
    description:
      'received (started), finalised (the customer authorised the payment, whatever became of it since), failed (rejected, cancelled, or superseded by a later authorisation).',
    parameters: [PAYMENT_PRODUCT, PAYMENT_ID, AUTHORISATION_ID, REQUEST_ID, ...SIGNATURE_HEADERS],
    responses: {
      '200': { description: 'its scaStatus', headers: RESPONSE_HEADERS, content: jsonBody('BgScaStatusResponse') },
      ...paymentFailures('413', '415'),
      '404': failure('PRODUCT_UNKNOWN: the bank offers no such payment product; RESOURCE_UNKNOWN: no such authorisation of this payment'),
    },
  },
};

export const berlinGroupApi: ApiPart = {
  tag: 'Berlin Group NextGenPSD2',
  description:
    "The Berlin Group NextGenPSD2 (v1.3.x) account information consent, SEPA payment initiation and their authorisation sub-resources under /v1, with the Berlin Group's operationIds: a TPP known by its eIDAS certificate (QWAC with the PSD2 role PSP_AI for consents, PSP_PI for payments) over mTLS, no prior registration; SCA by REDIRECT (the OAuth2 SCA approach) or DECOUPLED (the customer's authentication device); errors as tppMessages.",
  schemas: {
    BgConsentsRequest: jsonSchema(consentRequestSchema(), 'input'),
    BgConsentsResponse201: jsonSchema(consentsResponse201, 'output'),
    BgConsentInformationResponse200: jsonSchema(consentInformationResponse200, 'output'),
    BgConsentStatusResponse200: jsonSchema(consentStatusResponse200, 'output'),
    BgStartScaprocessResponse: jsonSchema(startScaprocessResponse, 'output'),
    BgAuthorisations: jsonSchema(authorisations, 'output'),
    BgScaStatusResponse: jsonSchema(scaStatusResponse, 'output'),
    BgPaymentInitiationJson: jsonSchema(paymentInitiationJson, 'input'),
    BgPaymentInitiationResponse201: jsonSchema(paymentInitiationResponse201, 'output'),
    BgPaymentInitiationWithStatusResponse: jsonSchema(paymentInitiationWithStatusResponse, 'output'),
    BgPaymentInitiationStatusResponse200: jsonSchema(paymentInitiationStatusResponse200, 'output'),
    BgTppMessages: jsonSchema(tppMessages, 'output'),
  },
  operations: { ...operations, ...paymentOperations },
};

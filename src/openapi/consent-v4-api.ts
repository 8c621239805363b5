import { V4_CONSENT_RESOURCES } from '../consent-api/ob-v4-consent-routes.ts';
import { obV4ErrorResponse } from '../consent-api/ob-v4-responses.ts';
import { vrpFundsConfirmationRequestV4, vrpFundsConfirmationResponseV4 } from '../consent-api/vrp-funds-confirmation.ts';
import { consentOperationIds, UK_OB_V4_CONSENT_TYPES, UK_OB_V4_DELETABLE, VRP_FUNDS_CONFIRMATION_OPERATIONS } from '../protocol/routes.ts';
import { type ApiPart, header, jsonBody, jsonSchema, type OperationDetail } from './api-part.ts';
import { INTERACTION_ID, RESPONSE_HEADERS } from './consent-api.ts';

/**
 * The UK OB v4.0 consent API beside v3.1's (consent-api.ts), from the zod schemas that validate its
 * requests and type its responses; its operationIds are v3.1's with `V4` (protocol/routes.ts).
 */

const obV4Error = (description: string) => ({ description, content: jsonBody('OBErrorResponseV4') });
const CONSENT_ID = {
  name: 'consentId',
  in: 'path',
  required: true,
  description: 'the ConsentId, of a consent created in v4.0 or in v3.1',
  schema: { type: 'string' },
};
const TOKEN_FAILURES = {
  '401': { description: 'missing, inactive or wrongly bound access token: no body (v4.0), the WWW-Authenticate challenge says why' },
  '403': obV4Error('token lacks the scope, or the TPP the role'),
};

/** v4.0.1's optional rate-limit headers, sent to a TPP under the operator's throttle (consent-api-steps.ts). */
const V4_RESPONSE_HEADERS = {
  ...RESPONSE_HEADERS,
  'RateLimit-Policy': { description: 'when the TPP is throttled: "tpp";q=<limit>;w=<window seconds>', schema: { type: 'string' } },
  RateLimit: { description: 'when the TPP is throttled: "tpp";r=<remaining>;t=<seconds to reset>', schema: { type: 'string' } },
};

const schemas: ApiPart['schemas'] = { OBErrorResponseV4: jsonSchema(obV4ErrorResponse, 'output') };
const operations: Record<string, OperationDetail> = {};
for (const type of UK_OB_V4_CONSENT_TYPES) {
  const resource = V4_CONSENT_RESOURCES[type];
  const name = resource.title
    .split(' ')
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');
  const title = resource.title.toLowerCase();
  schemas[`${name}RequestV4`] = jsonSchema(resource.request, 'input');
  schemas[`${name}ResponseV4`] = jsonSchema(resource.response, 'output');
  const ok = { description: `${resource.title}, in v4.0's words`, headers: V4_RESPONSE_HEADERS, content: jsonBody(`${name}ResponseV4`) };
  const ids = consentOperationIds(type, 'v4.0');
  operations[ids.create] = {
    summary: `Create a ${title} (v4.0)`,
    parameters: resource.idempotencyRequired
      ? [
          INTERACTION_ID,
          header(
            'x-idempotency-key',
            true,
            'at most 40 characters; the same key and body return the first consent (201), the same key with another body is refused (400, U006 at x-idempotency-key) and changes nothing',
          ),
        ]
      : [INTERACTION_ID],
    requestBody: { required: true, content: jsonBody(`${name}RequestV4`) },
    responses: { '201': ok, '400': obV4Error('invalid request; U0xx codes (OBExternalStatusReason1Code) in Errors'), ...TOKEN_FAILURES },
  };
  operations[ids.get] = {
    summary: `Read a ${title} (v4.0), whichever version created it`,
    parameters: [CONSENT_ID, INTERACTION_ID],
    responses: {
      '200': ok,
      '400': obV4Error('invalid request'),
      ...TOKEN_FAILURES,
      '404': obV4Error('no such consent for this TPP (U011)'),
    },
  };
  if (!UK_OB_V4_DELETABLE[type]) {
    operations[ids.delete] = {
      summary: `Not allowed: a ${title} cannot be deleted (v4.0 defines no DELETE for it)`,
      parameters: [CONSENT_ID, INTERACTION_ID],
      responses: { '405': obV4Error('never deletable (U005)'), ...TOKEN_FAILURES },
    };
    continue;
  }
  operations[ids.delete] = {
    summary: `Withdraw or revoke a ${title} (v4.0), whichever version created it`,
    parameters: [CONSENT_ID, INTERACTION_ID],
    responses: {
      '204': { description: 'withdrawn (AWAU -> RJCT) or revoked with its tokens (AUTH -> CANC)', headers: V4_RESPONSE_HEADERS },
      '400': obV4Error('invalid request, or the consent has already ended (U009)'),
      ...TOKEN_FAILURES,
      '404': obV4Error('no such consent for this TPP (U011)'),
    },
  };
}

schemas.DomesticVRPFundsConfirmationRequestV4 = jsonSchema(vrpFundsConfirmationRequestV4, 'input');
schemas.DomesticVRPFundsConfirmationResponseV4 = jsonSchema(vrpFundsConfirmationResponseV4, 'output');
operations[VRP_FUNDS_CONFIRMATION_OPERATIONS['v4.0']] = {
  summary:
    'Confirm that the account of an authorised (AUTH) domestic VRP consent can pay an amount now (v4.0), whichever version created it',
  parameters: [CONSENT_ID, INTERACTION_ID],
  requestBody: { required: true, content: jsonBody('DomesticVRPFundsConfirmationRequestV4') },
  responses: {
    '201': {
      description: 'Available or NotAvailable, never the balance',
      headers: V4_RESPONSE_HEADERS,
      content: jsonBody('DomesticVRPFundsConfirmationResponseV4'),
    },
    '400': obV4Error('invalid request, ConsentId mismatch (U008), or the consent is not AUTH (U009)'),
    '401': TOKEN_FAILURES['401'],
    '403': obV4Error("the token lacks the scope or is not the customer's token of this consent (U008)"),
    '404': obV4Error('no such consent for this TPP (U011)'),
  },
};

export const consentV4Api: ApiPart = {
  tag: 'UK OB v4.0 consent API',
  description:
    "UK Open Banking v4.0 account-access, funds-confirmation, domestic-payment and domestic VRP consents beside v3.1's, with a DPoP- or mTLS-bound client_credentials token (VRP funds confirmation: the customer's access token of the consent): v4.0's status codes (AWAU, AUTH, RJCT, CANC, EXPD, COND; a payment consent only AWAU, AUTH, RJCT, COND; a VRP consent never COND) and error envelope (Errors[].ErrorCode U0xx); one consent reads and deletes through either version (docs/uk-ob-v4.md).",
  schemas,
  operations,
};

import { CONSENT_RESOURCES } from '../consent-api/consent-resources.ts';
import { obErrorResponse } from '../consent-api/ob-responses.ts';
import { vrpFundsConfirmationRequest, vrpFundsConfirmationResponse } from '../consent-api/vrp-funds-confirmation.ts';
import { consentOperationIds } from '../protocol/routes.ts';
import { type ApiPart, header, jsonBody, jsonSchema, type OperationDetail } from './api-part.ts';

/**
 * The UK OB v3.1 consent API, from the same zod schemas that validate its requests and type its
 * responses; test/openapi/openapi-responses.test.ts checks real responses against the document.
 */

export const obError = (description: string) => ({ description, content: jsonBody('OBErrorResponse') });
export const INTERACTION_ID = header('x-fapi-interaction-id', false, 'RFC 4122 UUID echoed on the response; generated when absent');
export const RESPONSE_HEADERS = { 'x-fapi-interaction-id': { schema: { type: 'string' } } };
const CONSENT_ID = { name: 'consentId', in: 'path', required: true, description: 'the ConsentId', schema: { type: 'string' } };
const TOKEN_FAILURES = {
  '401': obError('missing, inactive or wrongly bound access token'),
  '403': obError('token lacks the scope, or the TPP the role'),
};

const schemas: ApiPart['schemas'] = { OBErrorResponse: jsonSchema(obErrorResponse, 'output') };
const operations: Record<string, OperationDetail> = {};
for (const resource of CONSENT_RESOURCES) {
  const name = resource.title
    .split(' ')
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');
  const title = resource.title.toLowerCase();
  schemas[`${name}Request`] = jsonSchema(resource.request, 'input');
  schemas[`${name}Response`] = jsonSchema(resource.response, 'output');
  const ok = { description: resource.title, headers: RESPONSE_HEADERS, content: jsonBody(`${name}Response`) };
  const ids = consentOperationIds(resource.type);
  operations[ids.create] = {
    summary: `Create a ${title}`,
    parameters: [
      INTERACTION_ID,
      header('x-idempotency-key', resource.idempotencyRequired, 'same key and body return the first consent; at most 40 characters'),
    ],
    requestBody: { required: true, content: jsonBody(`${name}Request`) },
    responses: { '201': ok, '400': obError('invalid request; UK.OBIE.* codes in Errors'), ...TOKEN_FAILURES },
  };
  operations[ids.get] = {
    summary: `Read a ${title}`,
    parameters: [CONSENT_ID, INTERACTION_ID],
    responses: { '200': ok, '400': obError('invalid request'), ...TOKEN_FAILURES, '404': obError('no such consent for this TPP') },
  };
  operations[ids.delete] = resource.deletable
    ? {
        summary: `Withdraw or revoke a ${title}`,
        parameters: [CONSENT_ID, INTERACTION_ID],
        responses: {
          '204': { description: 'withdrawn (AwaitingAuthorisation -> Rejected) or revoked with its tokens', headers: RESPONSE_HEADERS },
          '400': obError('invalid request'),
          ...TOKEN_FAILURES,
          '404': obError('no such consent for this TPP'),
        },
      }
    : {
        summary: `${resource.title}s cannot be deleted`,
        description: 'UK OB defines no DELETE for this resource: the route exists only to answer 405 in the UK OB envelope.',
        parameters: [CONSENT_ID, INTERACTION_ID],
        responses: { '405': obError('UK.OBIE.Field.Unexpected: not deletable') },
      };
}

schemas.DomesticVRPFundsConfirmationRequest = jsonSchema(vrpFundsConfirmationRequest, 'input');
schemas.DomesticVRPFundsConfirmationResponse = jsonSchema(vrpFundsConfirmationResponse, 'output');
operations.CreateDomesticVRPConsentsConsentIdFundsConfirmation = {
  summary: 'Confirm that the account of an Authorised domestic VRP consent can pay an amount now',
  parameters: [CONSENT_ID, INTERACTION_ID],
  requestBody: { required: true, content: jsonBody('DomesticVRPFundsConfirmationRequest') },
  responses: {
    '201': {
      description: 'Available or NotAvailable, never the balance',
      headers: RESPONSE_HEADERS,
      content: jsonBody('DomesticVRPFundsConfirmationResponse'),
    },
    '400': obError('invalid request, ConsentId mismatch, or the consent is not Authorised'),
    '401': obError('missing, inactive or wrongly bound access token'),
    '403': obError('the token lacks the scope or belongs to another consent'),
    '404': obError('no such consent for this TPP'),
  },
};

export const consentApi: ApiPart = {
  tag: 'UK OB consent API',
  description:
    "UK Open Banking v3.1 account-access, domestic-payment, funds-confirmation and domestic VRP consents for TPPs, with a DPoP- or mTLS-bound client_credentials token; VRP funds confirmation takes the customer's access token of the consent.",
  schemas,
  operations,
};

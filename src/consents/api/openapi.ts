import { z } from 'zod';
import { OB_API_PREFIX } from '../../protocol/routes.ts';
import { SCOPE_OF } from '../../protocol/scopes.ts';
import { CONSENT_RESOURCES } from './consent-resources.ts';
import { obErrorResponse } from './ob-responses.ts';
import { vrpFundsConfirmationRequest, vrpFundsConfirmationResponse } from './vrp-funds-confirmation.ts';

/**
 * The OpenAPI 3.1 description of the consent API, generated from the same zod schemas that validate
 * requests and type responses; test/consent-openapi.test.ts checks real responses against it.
 */

function jsonSchema(schema: z.ZodType, io: 'input' | 'output') {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' });
  return rest;
}

const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
const error = (description: string) => ({ description, content: json('OBErrorResponse') });
const header = (name: string, required: boolean, description: string) => ({ name, in: 'header', required, description, schema: { type: 'string' } });

const INTERACTION_ID = header('x-fapi-interaction-id', false, 'RFC 4122 UUID echoed on the response; generated when absent');
const CONSENT_ID = { name: 'ConsentId', in: 'path', required: true, schema: { type: 'string' } };
const RESPONSE_HEADERS = { 'x-fapi-interaction-id': { schema: { type: 'string' } } };

export function openApiDocument(issuer: string) {
  const schemas: Record<string, unknown> = { OBErrorResponse: jsonSchema(obErrorResponse, 'output') };
  const paths: Record<string, unknown> = {};
  for (const resource of CONSENT_RESOURCES) {
    const name = resource.title.split(' ').map((word) => word[0]!.toUpperCase() + word.slice(1)).join('');
    schemas[`${name}Request`] = jsonSchema(resource.request, 'input');
    schemas[`${name}Response`] = jsonSchema(resource.response, 'output');
    const security = [{ tppClientCredentials: [SCOPE_OF[resource.type]] }];
    const ok = { description: resource.title, headers: RESPONSE_HEADERS, content: json(`${name}Response`) };
    const failures = {
      '400': error('invalid request; UK.OBIE.* codes in Errors'),
      '401': error('missing, inactive or wrongly bound access token'),
      '403': error('token lacks the scope, or the TPP the role'),
    };
    paths[resource.path] = {
      post: {
        summary: `Create a ${resource.title.toLowerCase()}`,
        security,
        parameters: [INTERACTION_ID, header('x-idempotency-key', resource.idempotencyRequired, 'same key and body return the first consent; at most 40 characters')],
        requestBody: { required: true, content: json(`${name}Request`) },
        responses: { '201': ok, ...failures },
      },
    };
    paths[`${resource.path}/{ConsentId}`] = {
      get: {
        summary: `Read a ${resource.title.toLowerCase()}`,
        security,
        parameters: [CONSENT_ID, INTERACTION_ID],
        responses: { '200': ok, ...failures, '404': error('no such consent for this TPP') },
      },
      ...(resource.deletable && {
        delete: {
          summary: `Withdraw or revoke a ${resource.title.toLowerCase()}`,
          security,
          parameters: [CONSENT_ID, INTERACTION_ID],
          responses: { '204': { description: 'withdrawn (AwaitingAuthorisation -> Rejected) or revoked with its tokens', headers: RESPONSE_HEADERS }, ...failures, '404': error('no such consent for this TPP') },
        },
      }),
    };
  }
  schemas.DomesticVRPFundsConfirmationRequest = jsonSchema(vrpFundsConfirmationRequest, 'input');
  schemas.DomesticVRPFundsConfirmationResponse = jsonSchema(vrpFundsConfirmationResponse, 'output');
  paths['/vrp/domestic-vrp-consents/{ConsentId}/funds-confirmation'] = {
    post: {
      summary: 'Confirm that the account of an Authorised domestic VRP consent can pay an amount now',
      security: [{ customerAccessToken: [SCOPE_OF.domestic_vrp] }],
      parameters: [CONSENT_ID, INTERACTION_ID],
      requestBody: { required: true, content: json('DomesticVRPFundsConfirmationRequest') },
      responses: {
        '201': { description: 'Available or NotAvailable, never the balance', headers: RESPONSE_HEADERS, content: json('DomesticVRPFundsConfirmationResponse') },
        '400': error('invalid request, ConsentId mismatch, or the consent is not Authorised'),
        '401': error('missing, inactive or wrongly bound access token'),
        '403': error('the token lacks the scope or belongs to another consent'),
        '404': error('no such consent for this TPP'),
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Assent consent API (UK Open Banking v3.1)',
      version: '3.1',
      description:
        'Account-access, domestic-payment, funds-confirmation and domestic VRP consents for TPPs. Authorise with a DPoP- or mTLS-bound client_credentials access token; VRP funds confirmation takes the customer\'s access token of the consent.',
    },
    servers: [{ url: `${issuer}${OB_API_PREFIX}` }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        tppClientCredentials: {
          type: 'oauth2',
          description: 'client_credentials access token, sender-constrained by DPoP or mTLS',
          flows: { clientCredentials: { tokenUrl: `${issuer}/token`, scopes: { accounts: 'account-access consents', payments: 'domestic-payment and domestic VRP consents', fundsconfirmations: 'funds-confirmation consents' } } },
        },
        customerAccessToken: {
          type: 'oauth2',
          description: 'the access token the customer granted for the consent (PAR + authorization code), sender-constrained by DPoP or mTLS',
          flows: { authorizationCode: { authorizationUrl: `${issuer}/auth`, tokenUrl: `${issuer}/token`, scopes: { payments: 'payments under the consent' } } },
        },
      },
    },
  };
}

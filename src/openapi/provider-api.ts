import { z } from 'zod';
import { FAPI_CLIENT_AUTH_METHODS } from '../protocol/algorithms.ts';
import { CONSENT_STANDARDS, CONSENT_TYPES } from '../protocol/consent-types.ts';
import { readAccess } from './bank-api.ts';
import { CONSENT_STATUSES } from '../consents/consent-status.ts';
import type { RegistrationErrorCode } from '../tpp/registration-error.ts';
import { type ApiPart, formBody, header, jsonBody, jsonSchema, ref } from './api-part.ts';

/**
 * The provider's JSON endpoints (oidc-provider answers them; Assent configures them for FAPI 2.0):
 * discovery, JWKS, PAR, token, introspection, revocation, UserInfo and dynamic registration (RFC 7591/7592).
 * The library validates these requests itself, so these schemas describe its wire format rather than
 * parse anything.
 */

const clientAuthentication = {
  client_id: z.string().optional().describe("required with tls_client_auth; with private_key_jwt it is the assertion's iss/sub"),
  client_assertion_type: z.literal('urn:ietf:params:oauth:client-assertion-type:jwt-bearer').optional().describe('private_key_jwt'),
  client_assertion: z.string().optional().describe("private_key_jwt: a JWT signed with a key of the client's JWKS, aud = the issuer"),
};

const oauthError = z.object({
  error: z.string().describe('an OAuth error code (RFC 6749, 7009, 7662, 9126, 9449)'),
  error_description: z.string().optional(),
});

const parRequest = z
  .looseObject({
    ...clientAuthentication,
    request: z.string().optional().describe('the signed request object (JAR, RFC 9101) holding the parameters below'),
    response_type: z.literal('code').optional(),
    redirect_uri: z
      .url()
      .optional()
      .describe("a registered redirect URI; for a TPP known by its eIDAS certificate, exactly the consent's TPP-Redirect-URI"),
    scope: z
      .string()
      .optional()
      .describe('Berlin Group OAuth2 SCA approach: AIS:<consentId> or PIS:<paymentId> binds the consent (eIDAS TPPs only)'),
    state: z.string().optional(),
    nonce: z.string().optional(),
    code_challenge: z.string().optional().describe('PKCE, required'),
    code_challenge_method: z.literal('S256').optional(),
    authorization_details: z
      .string()
      .optional()
      .describe('RFC 9396, JSON: the consents asked for ({type, consent_id} or a UK OB consent body)'),
    claims: z.string().optional().describe('JSON; openbanking_intent_id binds a consent'),
    dpop_jkt: z.string().optional().describe('RFC 9449: the thumbprint of the key the tokens will be bound to'),
  })
  .describe("the authorization request's parameters, in a signed request object or as form fields, plus client authentication");

const parResponse = z.object({
  request_uri: z.string().describe('urn:ietf:params:oauth:request_uri:...; use it once at the authorization endpoint'),
  expires_in: z.int(),
});

const tokenRequest = z.looseObject({
  ...clientAuthentication,
  // The grants a client may use are its registered grant_types; discovery lists them all (grant_types_supported).
  grant_type: z
    .string()
    .describe('authorization_code, refresh_token, client_credentials, or another of grant_types_supported in discovery'),
  code: z.string().optional(),
  redirect_uri: z.url().optional(),
  code_verifier: z.string().optional().describe('PKCE'),
  refresh_token: z.string().optional(),
  auth_req_id: z
    .string()
    .optional()
    .describe('CIBA (urn:openid:params:grant-type:ciba): the auth_req_id of the backchannel authentication response'),
  scope: z.string().optional(),
  resource: z.url().optional(),
});

const tokenResponse = z.looseObject({
  access_token: z.string(),
  token_type: z.enum(['DPoP', 'Bearer']).describe('DPoP for a DPoP-bound token; Bearer for a certificate-bound (mTLS) one, never unbound'),
  expires_in: z.int(),
  scope: z.string().optional(),
  refresh_token: z.string().optional(),
  id_token: z.string().optional(),
  authorization_details: z.array(z.looseObject({ type: z.string() })).optional(),
  grant_id: z.string().optional().describe('FAPI Grant Management: the grant the tokens belong to'),
});

const backchannelRequest = z.object({
  ...clientAuthentication,
  request: z
    .string()
    .describe(
      'FAPI-CIBA: a request object signed with backchannel_authentication_request_signing_alg, holding scope, binding_message, the consent (claims.id_token.openbanking_intent_id or authorization_details), one of login_hint, login_hint_token or id_token_hint, and optionally requested_expiry and client_notification_token (ping)',
    ),
});
const backchannelResponse = z.object({
  auth_req_id: z.string().describe('poll the token endpoint with it (grant_type urn:openid:params:grant-type:ciba)'),
  expires_in: z.int(),
  interval: z.int().describe('the fewest seconds between polls; polling faster answers slow_down'),
});

const tokenRequestBody = z.object({
  ...clientAuthentication,
  token: z.string(),
  token_type_hint: z.enum(['access_token', 'refresh_token']).optional(),
});

const introspectionResponse = z.looseObject({
  active: z.boolean().describe('false for an unknown, expired, revoked or foreign token, and for one whose consent no longer holds'),
  client_id: z.string().optional(),
  scope: z.string().optional(),
  sub: z.string().optional(),
  exp: z.int().optional(),
  iat: z.int().optional(),
  iss: z.string().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
  token_type: z.string().optional(),
  cnf: z
    .object({ jkt: z.string().optional(), 'x5t#S256': z.string().optional() })
    .optional()
    .describe('the key or certificate the token is bound to'),
  consent_id: z.string().optional(),
  consent_type: z.enum(CONSENT_TYPES).optional(),
  consent_status: z.enum(CONSENT_STATUSES).optional(),
  permissions: z.array(z.string()).optional().describe("UK OB permissions, as the consent's reads map to them"),
  account_ids: z.array(z.string()).optional(),
  expiration: z.int().nullable().optional().describe("the consent's end, epoch seconds"),
  standard: z.enum(CONSENT_STANDARDS).optional().describe('the dialect the consent was created in'),
  access: readAccess.optional().describe('the consent model: what may be read, of which accounts (null: the accounts the customer chose)'),
  control_parameters: z.record(z.string(), z.unknown()).optional().describe("a domestic VRP consent's limits"),
  authorization_details: z
    .array(z.looseObject({ type: z.string() }))
    .optional()
    .describe("a VRP entry carries `periods`: each limit's current period with what is paid and what remains"),
});

const jwks = z.object({
  keys: z.array(z.looseObject({ kty: z.string(), kid: z.string().optional(), use: z.string().optional(), alg: z.string().optional() })),
});

const providerMetadata = z.looseObject({
  issuer: z.url(),
  authorization_endpoint: z.url(),
  token_endpoint: z.url(),
  jwks_uri: z.url(),
  pushed_authorization_request_endpoint: z.url(),
  require_pushed_authorization_requests: z.boolean(),
  introspection_endpoint: z.url().optional(),
  revocation_endpoint: z.url().optional(),
  registration_endpoint: z.url().optional(),
  userinfo_endpoint: z.url().optional(),
  token_endpoint_auth_methods_supported: z.array(z.string()),
  dpop_signing_alg_values_supported: z.array(z.string()).optional(),
  tls_client_certificate_bound_access_tokens: z.boolean().optional(),
  authorization_details_types_supported: z.array(z.string()).optional(),
});

const userInfo = z.looseObject({ sub: z.string() });

const clientMetadata = z.looseObject({
  software_statement: z.string().describe('the directory-signed software statement (JWT); its claims supply and bound the metadata'),
  redirect_uris: z.array(z.url()).optional(),
  token_endpoint_auth_method: z.enum(FAPI_CLIENT_AUTH_METHODS).optional(),
  tls_client_auth_subject_dn: z.string().optional(),
  jwks_uri: z.url().optional(),
  jwks: z.object({ keys: z.array(z.looseObject({ kty: z.string() })) }).optional(),
  dpop_bound_access_tokens: z.boolean().optional(),
  tls_client_certificate_bound_access_tokens: z
    .boolean()
    .optional()
    .describe('one of the two bindings is required: tokens are never bearer'),
  scope: z.string().optional(),
});

const registeredClient = z.looseObject({
  client_id: z.string(),
  registration_access_token: z.string().optional().describe('returned on registration and on update'),
  registration_client_uri: z.url(),
  software_statement: z.string(),
  software_id: z.string(),
  org_id: z.string(),
  software_roles: z.array(z.string()),
  redirect_uris: z.array(z.url()),
  token_endpoint_auth_method: z.string(),
});

const REGISTRATION_ERRORS: Record<RegistrationErrorCode, true> = {
  invalid_software_statement: true,
  unapproved_software_statement: true,
  invalid_redirect_uri: true,
  invalid_client_metadata: true,
  unauthorized_client: true,
  invalid_client: true,
  temporarily_unavailable: true,
};
const registrationError = z.object({
  error: z.enum(Object.keys(REGISTRATION_ERRORS) as [RegistrationErrorCode]),
  error_description: z.string(),
});

const error = (description: string) => ({ description, content: jsonBody('OAuthError') });
const NO_STORE = { 'Cache-Control': { schema: { type: 'string', const: 'no-store' } } };
const DPOP_HEADER = header(
  'DPoP',
  false,
  'RFC 9449: a DPoP proof binds the tokens issued to its key (a DPoP-bound client); a client registered for mTLS binding presents its certificate instead',
);
const CLIENT_ERRORS = {
  '400': error('invalid_request, invalid_grant, invalid_scope, ... (RFC 6749 5.2)'),
  '401': error('invalid_client: the client could not be authenticated'),
};
const registrationFailure = (description: string) => ({ description, content: jsonBody('RegistrationError') });
const metadataBody = {
  required: true,
  content: {
    ...jsonBody('ClientMetadataRequest'),
    'application/jwt': {
      schema: { type: 'string', description: 'UK OB form: the metadata as a JWT signed by the TPP, holding the software statement' },
    },
  },
};

export const providerApi: ApiPart = {
  tag: 'OpenID Provider',
  description:
    'FAPI 2.0 endpoints of the authorization server: discovery, keys, PAR, CIBA, token, introspection, revocation, UserInfo, dynamic client registration',
  schemas: {
    OAuthError: jsonSchema(oauthError, 'output'),
    ProviderMetadata: jsonSchema(providerMetadata, 'output'),
    JsonWebKeySet: jsonSchema(jwks, 'output'),
    PushedAuthorizationRequest: jsonSchema(parRequest, 'input'),
    PushedAuthorizationResponse: jsonSchema(parResponse, 'output'),
    BackchannelAuthenticationRequest: jsonSchema(backchannelRequest, 'input'),
    BackchannelAuthenticationResponse: jsonSchema(backchannelResponse, 'output'),
    TokenRequest: jsonSchema(tokenRequest, 'input'),
    TokenResponse: jsonSchema(tokenResponse, 'output'),
    IntrospectionRequest: jsonSchema(tokenRequestBody, 'input'),
    IntrospectionResponse: jsonSchema(introspectionResponse, 'output'),
    RevocationRequest: jsonSchema(tokenRequestBody, 'input'),
    UserInfo: jsonSchema(userInfo, 'output'),
    ClientMetadataRequest: jsonSchema(clientMetadata, 'input'),
    RegisteredClient: jsonSchema(registeredClient, 'output'),
    RegistrationError: jsonSchema(registrationError, 'output'),
  },
  operations: {
    getOpenIdConfiguration: {
      responses: { '200': { description: 'the OpenID Provider metadata', content: jsonBody('ProviderMetadata') } },
    },
    getAuthorizationServerMetadata: {
      responses: { '200': { description: 'the same metadata, RFC 8414', content: jsonBody('ProviderMetadata') } },
    },
    getJwks: {
      responses: {
        '200': {
          description: 'the keys that sign id tokens, JWT introspection responses and event notifications',
          content: { 'application/jwk-set+json': { schema: ref('JsonWebKeySet') } },
        },
      },
    },
    pushAuthorizationRequest: {
      parameters: [DPOP_HEADER],
      requestBody: { required: true, content: formBody('PushedAuthorizationRequest') },
      responses: {
        '201': {
          description: 'the request_uri to send the customer to /auth with',
          headers: NO_STORE,
          content: jsonBody('PushedAuthorizationResponse'),
        },
        ...CLIENT_ERRORS,
      },
    },
    requestBackchannelAuthentication: {
      requestBody: { required: true, content: formBody('BackchannelAuthenticationRequest') },
      responses: {
        '200': {
          description: 'accepted, whether or not the hint names a customer (a request for nobody only ever expires)',
          headers: NO_STORE,
          content: jsonBody('BackchannelAuthenticationResponse'),
        },
        '400': error('invalid_request (unsigned, no consent, no hint), invalid_binding_message, invalid_scope, ... (CIBA 13)'),
        '401': CLIENT_ERRORS['401'],
      },
    },
    requestToken: {
      parameters: [DPOP_HEADER],
      requestBody: { required: true, content: formBody('TokenRequest') },
      responses: {
        '200': { description: 'sender-constrained tokens', headers: NO_STORE, content: jsonBody('TokenResponse') },
        // CIBA: authorization_pending, slow_down, access_denied and expired_token are 400s too.
        ...CLIENT_ERRORS,
        '503': error('temporarily_unavailable: the database is away; retry'),
      },
    },
    introspectToken: {
      parameters: [header('Accept', false, 'application/token-introspection+jwt for a signed response (RFC 9701)')],
      requestBody: { required: true, content: formBody('IntrospectionRequest') },
      responses: {
        '200': {
          description: "the token's state, with the consent it was issued under",
          content: { ...jsonBody('IntrospectionResponse'), 'application/token-introspection+jwt': { schema: { type: 'string' } } },
        },
        ...CLIENT_ERRORS,
      },
    },
    revokeToken: {
      requestBody: { required: true, content: formBody('RevocationRequest') },
      responses: { '200': { description: 'revoked, or not a token of this client (RFC 7009: the answer is the same)' }, ...CLIENT_ERRORS },
    },
    getUserInfo: {
      responses: {
        '200': {
          description: 'claims about the customer',
          content: { ...jsonBody('UserInfo'), 'application/jwt': { schema: { type: 'string' } } },
        },
        '401': error('invalid_token (WWW-Authenticate says why)'),
      },
    },
    postUserInfo: {
      responses: {
        '200': {
          description: 'claims about the customer',
          content: { ...jsonBody('UserInfo'), 'application/jwt': { schema: { type: 'string' } } },
        },
        '401': error('invalid_token (WWW-Authenticate says why)'),
      },
    },
    registerClient: {
      description:
        'No header credential: the software statement, signed by a trusted directory, is verified (signature, iss, exp, jti replay) and bounds the metadata. Present the client certificate to register tls_client_auth.',
      requestBody: metadataBody,
      responses: {
        '201': {
          description: 'the registered client with its registration access token',
          headers: NO_STORE,
          content: jsonBody('RegisteredClient'),
        },
        '400': registrationFailure('RFC 7591 3.2.2 error'),
        '403': registrationFailure('unauthorized_client: the organisation is suspended'),
      },
    },
    getClientRegistration: {
      responses: {
        '200': { description: 'the registration as it is', content: jsonBody('RegisteredClient') },
        '401': error('invalid_token'),
      },
    },
    updateClientRegistration: {
      requestBody: metadataBody,
      responses: {
        '200': { description: 'the updated registration (a new registration access token)', content: jsonBody('RegisteredClient') },
        '400': registrationFailure('RFC 7591 3.2.2 error'),
        '401': error('invalid_token'),
      },
    },
    deleteClientRegistration: {
      responses: { '204': { description: 'deregistered: the client and all its tokens are gone' }, '401': error('invalid_token') },
    },
  },
};

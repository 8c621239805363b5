import { BG_ROUTES } from './berlin-group-routes.ts';
import { CONSENT_TYPES, type ConsentType } from './consent-types.ts';
import type { Caller, Credential, Method, RateLimitPolicy, Route } from './route-row.ts';
import { CONSENT_SCOPES, SCOPE, SCOPE_OF, type Scope } from './scopes.ts';

/**
 * Every path Assent and its oidc-provider serve, in one table that the provider's configuration, the
 * routers, the rate limits, the metric labels, the OpenAPI document and the tests read. A row is one
 * method on one path (Koa-router syntax, `:name` for a segment), with who may call it, which rate-limit
 * policy guards it and what it is for, so the table is also the API inventory. A row that answers JSON
 * to a program (not a page, a redirect, a stylesheet or the metrics text) carries an `operationId`: it is
 * an operation of the one OpenAPI document (src/openapi/), secured as its credential says.
 */

export { CALLERS, RATE_LIMIT_POLICIES } from './route-row.ts';
export type { Caller, Credential, Method, Psd2Role, RateLimitPolicy, Route } from './route-row.ts';

/**
 * How each kind of caller usually proves itself; a TPP and a customer do so in several ways (a customer:
 * a live interaction, the dashboard's session, or nothing yet at the dashboard's sign-in), so their rows say which.
 */
const CREDENTIAL_OF_CALLER: Record<Caller, Credential | undefined> = {
  anyone: { kind: 'none' },
  customer: undefined,
  client: { kind: 'client_authentication' },
  tpp: undefined,
  resource_server: { kind: 'client_credentials_token', anyScopeOf: [SCOPE.bank] },
  operator: { kind: 'admin_credentials' },
};

/** The credential a route's caller presents: the row's own, else its caller's usual one. */
export function credentialOf(route: Route): Credential | undefined {
  return route.credential ?? CREDENTIAL_OF_CALLER[route.caller];
}

/** Where oidc-provider mounts its endpoints: its `routes` option. */
export const ENGINE_PATHS = {
  authorization: '/auth',
  backchannel_authentication: '/backchannel',
  end_session: '/session/end',
  introspection: '/token/introspection',
  jwks: '/jwks',
  pushed_authorization_request: '/request',
  registration: '/register',
  revocation: '/token/revocation',
  token: '/token',
  userinfo: '/me',
} as const;

export const DISCOVERY_PATH = '/.well-known/openid-configuration';
/** RFC 8414 metadata: the engine serves the same document here too. */
export const OAUTH_METADATA_PATH = '/.well-known/oauth-authorization-server';
export const OB_API_PREFIX = '/open-banking/v3.1';
/**
 * UK OB v4.0 (issue 29, docs/uk-ob-v4.md) beside v3.1: the same consent resources at the same paths
 * under this prefix (read-write-api-specs v4.0: `"servers": [{"url": "/open-banking/v4.0/aisp"}]`).
 */
export const OB_V4_API_PREFIX = '/open-banking/v4.0';
/** The consent types the v4.0 API serves: every one v3.1 serves. */
export const UK_OB_V4_CONSENT_TYPES = [
  'account_access',
  'funds_confirmation',
  'domestic_payment',
  'domestic_vrp',
] as const satisfies readonly ConsentType[];
export type UkObV4ConsentType = (typeof UK_OB_V4_CONSENT_TYPES)[number];
/**
 * Whether v4.0 lets a TPP delete the consent type: payment-initiation-openapi v4.0 has no DELETE on
 * domestic-payment-consents (only POST, GET and GET .../funds-confirmation), so its DELETE row answers
 * 405 in the v4.0 envelope, as v3.1's does.
 */
export const UK_OB_V4_DELETABLE: Record<UkObV4ConsentType, boolean> = {
  account_access: true,
  funds_confirmation: true,
  domestic_payment: false,
  domestic_vrp: true,
};
export const BANK_PREFIX = '/bank';
export const DASHBOARD_PREFIX = '/dashboard';
export const INTERACTION_PREFIX = '/interaction/:uid';

/** The customer's authentication device for decoupled (CIBA) requests: a dashboard page and its JSON twin. */
export const DECOUPLED_PATHS = {
  page: `${DASHBOARD_PREFIX}/decoupled`,
  api: `${DASHBOARD_PREFIX}/api/decoupled-requests`,
} as const;

/** The OpenAPI document of every JSON API (src/openapi/), where clients look for it. */
export const OPENAPI_PATH = '/openapi.json';

/** FAPI Grant Management's endpoint: `GET|DELETE /grants/:grantId`. */
export const GRANTS_PATH = '/grants';

/** The UK OB Event Notification API's resources, under OB_API_PREFIX. */
export const EVENT_API_PATHS = {
  events: '/events',
  callbackUrls: '/callback-urls',
  eventSubscriptions: '/event-subscriptions',
} as const;

/** Each UK OB consent resource, under OB_API_PREFIX. */
export const CONSENT_API_PATHS: Record<ConsentType, string> = {
  account_access: '/aisp/account-access-consents',
  domestic_payment: '/pisp/domestic-payment-consents',
  funds_confirmation: '/cbpii/funds-confirmation-consents',
  domestic_vrp: '/vrp/domestic-vrp-consents',
};

/**
 * Each v4.0 consent resource, under OB_V4_API_PREFIX: v3.1's path, except domestic VRP consents'. Assent
 * serves v3.1's at `/vrp` (v3.1.8's `"servers": [{"url": "/open-banking/v3.1/vrp"}]`); v4.0's
 * vrp-openapi.json (read-write-api-specs v4.0 Update 4) puts them under `/open-banking/v4.0/pisp`, so a
 * v4.0 TPP finds them there.
 */
export const V4_CONSENT_API_PATHS: Record<UkObV4ConsentType, string> = {
  account_access: CONSENT_API_PATHS.account_access,
  funds_confirmation: CONSENT_API_PATHS.funds_confirmation,
  domestic_payment: CONSENT_API_PATHS.domestic_payment,
  domestic_vrp: '/pisp/domestic-vrp-consents',
};

/**
 * UK OB v3.1.10 and v4.0: a PISP asks, with the customer's token, whether a VRP consent's account can
 * pay an amount; the operationId of each version's route.
 */
export const VRP_FUNDS_CONFIRMATION_OPERATIONS = {
  'v3.1': 'CreateDomesticVRPConsentsConsentIdFundsConfirmation',
  'v4.0': 'CreateDomesticVRPConsentsConsentIdFundsConfirmationV4',
} as const;
const VRP_FUNDS_CONFIRMATION_PATHS = {
  'v3.1': `${OB_API_PREFIX}${CONSENT_API_PATHS.domestic_vrp}/:consentId/funds-confirmation`,
  'v4.0': `${OB_V4_API_PREFIX}${V4_CONSENT_API_PATHS.domestic_vrp}/:consentId/funds-confirmation`,
} as const;

const engine = (method: Method, path: string, caller: Caller, purpose: string, rateLimit?: RateLimitPolicy): Route => ({
  method,
  path,
  servedBy: 'engine',
  caller,
  purpose,
  ...(rateLimit && { rateLimit }),
});
const assent = (method: Method, path: string, caller: Caller, purpose: string, rateLimit?: RateLimitPolicy): Route => ({
  ...engine(method, path, caller, purpose, rateLimit),
  servedBy: 'assent',
});

/** Marks a row as a JSON API: an operation of the OpenAPI document named `operationId`. */
const json = (operationId: string, route: Route, credential?: Credential): Route => ({
  ...route,
  operationId,
  ...(credential && { credential }),
});
const clientToken = (...anyScopeOf: Scope[]): Credential => ({ kind: 'client_credentials_token', anyScopeOf });
const customerToken = (...anyScopeOf: Scope[]): Credential => ({ kind: 'customer_access_token', anyScopeOf });
const REGISTRATION_ACCESS_TOKEN: Credential = { kind: 'registration_access_token' };
const NONE: Credential = { kind: 'none' };
const INTERACTION: Credential = { kind: 'interaction' };
const DASHBOARD_SESSION: Credential = { kind: 'dashboard_session' };
/** A customer's route and how its caller proves itself. */
const customerRow = (route: Route, credential: Credential): Route => ({ ...route, credential });

const CONSENT_OPERATION_NAMES: Record<ConsentType, string> = {
  account_access: 'AccountAccessConsents',
  domestic_payment: 'DomesticPaymentConsents',
  funds_confirmation: 'FundsConfirmationConsents',
  domestic_vrp: 'DomesticVRPConsents',
};
/**
 * UK OB's operationIds of a consent resource's three operations. v4.0's files reuse v3.1's ids
 * (`CreateAccountAccessConsents`, ...); one document holds both versions, so v4.0's end in `V4`.
 */
export function consentOperationIds(type: ConsentType, version: 'v3.1' | 'v4.0' = 'v3.1') {
  const [name, suffix] = [CONSENT_OPERATION_NAMES[type], version === 'v4.0' ? 'V4' : ''];
  return { create: `Create${name}${suffix}`, get: `Get${name}ConsentId${suffix}`, delete: `Delete${name}ConsentId${suffix}` };
}
/** The event API's two subscription resources: their operationIds' names and their id's name. */
const EVENT_RESOURCE_NAMES = {
  callbackUrls: ['CallbackUrls', 'CallbackUrlId'],
  eventSubscriptions: ['EventSubscriptions', 'EventSubscriptionId'],
} as const;

const {
  authorization,
  backchannel_authentication,
  end_session,
  introspection,
  jwks,
  pushed_authorization_request,
  registration,
  revocation,
  token,
  userinfo,
} = ENGINE_PATHS;

export const ROUTES: readonly Route[] = [
  json('getOpenIdConfiguration', engine('GET', DISCOVERY_PATH, 'anyone', 'OpenID Provider metadata')),
  json(
    'getAuthorizationServerMetadata',
    engine('GET', OAUTH_METADATA_PATH, 'anyone', 'OAuth 2.0 authorization server metadata (RFC 8414)'),
  ),
  json('getJwks', engine('GET', jwks, 'anyone', 'the public signing keys')),
  json(
    'pushAuthorizationRequest',
    engine('POST', pushed_authorization_request, 'client', 'PAR (RFC 9126): the signed authorization request', 'par'),
  ),
  engine('GET', authorization, 'customer', 'authorization endpoint, with a PAR request_uri'),
  engine('GET', `${authorization}/:uid`, 'customer', 'resumes an authorization after its interaction'),
  json(
    'requestBackchannelAuthentication',
    engine(
      'POST',
      backchannel_authentication,
      'client',
      'CIBA: a TPP asks for a decoupled authentication (signed request, bound to a consent)',
      'backchannel',
    ),
  ),
  json('requestToken', engine('POST', token, 'client', 'token endpoint: code, refresh, client_credentials and CIBA grants', 'token')),
  json('introspectToken', engine('POST', introspection, 'client', 'RFC 7662 introspection: resource servers any token, a TPP its own')),
  json('revokeToken', engine('POST', revocation, 'client', "RFC 7009 revocation of a client's own tokens")),
  json('getUserInfo', engine('GET', userinfo, 'client', 'UserInfo with a sender-constrained access token'), customerToken(SCOPE.openid)),
  json('postUserInfo', engine('POST', userinfo, 'client', 'UserInfo, the token sent by POST'), customerToken(SCOPE.openid)),
  engine('GET', end_session, 'customer', 'RP-initiated logout'),
  engine('POST', `${end_session}/confirm`, 'customer', 'the customer confirms signing out'),
  engine('GET', `${end_session}/success`, 'customer', 'signed out, when the client gave no redirect'),
  json('registerClient', engine('POST', registration, 'tpp', 'RFC 7591 registration with a software statement', 'registration'), {
    kind: 'software_statement',
  }),
  json(
    'getClientRegistration',
    engine('GET', `${registration}/:clientId`, 'tpp', 'RFC 7592: read the registration'),
    REGISTRATION_ACCESS_TOKEN,
  ),
  json(
    'updateClientRegistration',
    engine('PUT', `${registration}/:clientId`, 'tpp', 'RFC 7592: update the registration with a new software statement'),
    REGISTRATION_ACCESS_TOKEN,
  ),
  json('deleteClientRegistration', engine('DELETE', `${registration}/:clientId`, 'tpp', 'RFC 7592: deregister'), REGISTRATION_ACCESS_TOKEN),
  customerRow(assent('GET', INTERACTION_PREFIX, 'customer', 'the current step of the sign-in and consent pages'), INTERACTION),
  customerRow(assent('POST', `${INTERACTION_PREFIX}/login`, 'customer', 'SCA first factor: password', 'login'), INTERACTION),
  customerRow(assent('POST', `${INTERACTION_PREFIX}/otp`, 'customer', 'SCA second factor: one-time code', 'otp'), INTERACTION),
  customerRow(assent('POST', `${INTERACTION_PREFIX}/confirm`, 'customer', 'the customer approves or rejects the consent'), INTERACTION),
  customerRow(assent('POST', `${INTERACTION_PREFIX}/abort`, 'customer', 'the customer returns to the TPP without deciding'), INTERACTION),
  ...CONSENT_TYPES.flatMap((type) => {
    const [ids, path, bound] = [consentOperationIds(type), `${OB_API_PREFIX}${CONSENT_API_PATHS[type]}`, clientToken(SCOPE_OF[type])];
    return [
      json(ids.create, assent('POST', path, 'tpp', `creates a ${type} consent`), bound),
      json(ids.get, assent('GET', `${path}/:consentId`, 'tpp', `reads a ${type} consent`), bound),
      json(ids.delete, assent('DELETE', `${path}/:consentId`, 'tpp', `withdraws a ${type} consent (405 where UK OB allows none)`), bound),
    ];
  }),
  ...UK_OB_V4_CONSENT_TYPES.flatMap((type) => {
    const [ids, path, bound] = [
      consentOperationIds(type, 'v4.0'),
      `${OB_V4_API_PREFIX}${V4_CONSENT_API_PATHS[type]}`,
      clientToken(SCOPE_OF[type]),
    ];
    return [
      json(ids.create, assent('POST', path, 'tpp', `UK OB v4.0: creates a ${type} consent`), bound),
      json(ids.get, assent('GET', `${path}/:consentId`, 'tpp', `UK OB v4.0: reads a ${type} consent, whichever version created it`), bound),
      json(
        ids.delete,
        assent(
          'DELETE',
          `${path}/:consentId`,
          'tpp',
          `UK OB v4.0: withdraws a ${type} consent, whichever version created it (405 where UK OB allows none)`,
        ),
        bound,
      ),
    ];
  }),
  json(
    'CreateEvents',
    assent(
      'POST',
      `${OB_API_PREFIX}${EVENT_API_PATHS.events}`,
      'tpp',
      'aggregated polling of event notifications (ack, setErrs, maxEvents)',
    ),
    clientToken(...CONSENT_SCOPES),
  ),
  ...(['callbackUrls', 'eventSubscriptions'] as const).flatMap((resource) => {
    const [name, id] = EVENT_RESOURCE_NAMES[resource];
    const [path, entry, bound] = [
      `${OB_API_PREFIX}${EVENT_API_PATHS[resource]}`,
      EVENT_API_PATHS[resource].slice(1),
      clientToken(...CONSENT_SCOPES),
    ];
    return [
      json(`Create${name}`, assent('POST', path, 'tpp', `creates the TPP's ${entry} entry (push of event notifications)`), bound),
      json(`Get${name}`, assent('GET', path, 'tpp', `lists the TPP's ${entry}`), bound),
      json(`Change${name}${id}`, assent('PUT', `${path}/:id`, 'tpp', `replaces the TPP's ${entry} entry`), bound),
      json(`Delete${name}${id}`, assent('DELETE', `${path}/:id`, 'tpp', `removes the TPP's ${entry} entry`), bound),
    ];
  }),
  json(
    'getGrant',
    assent('GET', `${GRANTS_PATH}/:grantId`, 'tpp', 'Grant Management: what a grant holds (grant_management_query)'),
    clientToken(SCOPE.grantManagementQuery),
  ),
  json(
    'revokeGrant',
    assent(
      'DELETE',
      `${GRANTS_PATH}/:grantId`,
      'tpp',
      'Grant Management: revokes a grant with its consents and tokens (grant_management_revoke)',
    ),
    clientToken(SCOPE.grantManagementRevoke),
  ),
  json('getOpenApiDocument', assent('GET', OPENAPI_PATH, 'anyone', 'the OpenAPI document of every JSON API')),
  json('getBankConsent', assent('GET', `${BANK_PREFIX}/consents/:consentId`, 'resource_server', 'the whole consent behind a token')),
  json(
    'consumePaymentConsent',
    assent('POST', `${BANK_PREFIX}/payment-consents/:consentId/consume`, 'resource_server', 'marks a single-use payment consent consumed'),
  ),
  json(
    'recordConsentAccess',
    assent(
      'POST',
      `${BANK_PREFIX}/consents/:consentId/accesses`,
      'resource_server',
      'records one account access under an account-access consent, against its frequencyPerDay',
    ),
  ),
  ...(['v3.1', 'v4.0'] as const).map((version) =>
    json(
      VRP_FUNDS_CONFIRMATION_OPERATIONS[version],
      assent(
        'POST',
        VRP_FUNDS_CONFIRMATION_PATHS[version],
        'tpp',
        `UK OB ${version}: VRP funds confirmation with the customer's access token`,
      ),
      customerToken(SCOPE_OF.domestic_vrp),
    ),
  ),
  json(
    'decideVrpPayment',
    assent(
      'POST',
      `${BANK_PREFIX}/vrp-consents/:consentId/payments`,
      'resource_server',
      'decides one payment under a VRP consent against its limits',
    ),
  ),
  customerRow(assent('GET', DASHBOARD_PREFIX, 'customer', "the customer's consents"), DASHBOARD_SESSION),
  customerRow(assent('GET', `${DASHBOARD_PREFIX}/login`, 'customer', "starts the dashboard's own sign-in"), NONE),
  customerRow(assent('GET', `${DASHBOARD_PREFIX}/callback`, 'customer', "the dashboard's sign-in redirect"), NONE),
  customerRow(assent('POST', `${DASHBOARD_PREFIX}/logout`, 'customer', 'ends the dashboard session'), DASHBOARD_SESSION),
  customerRow(assent('GET', `${DASHBOARD_PREFIX}/consents/:id`, 'customer', 'one consent with its history'), DASHBOARD_SESSION),
  customerRow(
    assent('GET', `${DASHBOARD_PREFIX}/consents/:id/revoke`, 'customer', 'asks to confirm revoking a consent'),
    DASHBOARD_SESSION,
  ),
  customerRow(assent('POST', `${DASHBOARD_PREFIX}/consents/:id/revoke`, 'customer', 'revokes a consent'), DASHBOARD_SESSION),
  customerRow(assent('GET', `${DASHBOARD_PREFIX}/consents/:id/receipt`, 'customer', 'confirms a revocation'), DASHBOARD_SESSION),
  customerRow(
    assent('GET', `${DASHBOARD_PREFIX}/providers/:clientId/stop`, 'customer', 'asks to confirm stopping all sharing with a TPP'),
    DASHBOARD_SESSION,
  ),
  customerRow(
    assent('POST', `${DASHBOARD_PREFIX}/providers/:clientId/stop`, 'customer', 'revokes every consent with a TPP'),
    DASHBOARD_SESSION,
  ),
  customerRow(assent('GET', `${DASHBOARD_PREFIX}/providers/:clientId/receipt`, 'customer', 'confirms stopping sharing'), DASHBOARD_SESSION),
  customerRow(
    assent('GET', DECOUPLED_PATHS.page, 'customer', 'the pending decoupled (CIBA) requests, to approve with the one-time code or deny'),
    DASHBOARD_SESSION,
  ),
  customerRow(
    assent(
      'POST',
      `${DECOUPLED_PATHS.page}/:id/approve`,
      'customer',
      'approves a decoupled request with the one-time code (guarded by the lockout of one-time codes)',
    ),
    DASHBOARD_SESSION,
  ),
  customerRow(assent('POST', `${DECOUPLED_PATHS.page}/:id/deny`, 'customer', 'denies a decoupled request'), DASHBOARD_SESSION),
  // The bank's app signs in to the dashboard and calls these with its session cookie; their POSTs are
  // application/json, which no other site can send with that cookie, so they take no CSRF token.
  json(
    'listDecoupledRequests',
    assent('GET', DECOUPLED_PATHS.api, 'customer', "for the bank's app: the pending decoupled requests"),
    DASHBOARD_SESSION,
  ),
  json(
    'approveDecoupledRequest',
    assent(
      'POST',
      `${DECOUPLED_PATHS.api}/:id/approve`,
      'customer',
      "for the bank's app: approves a decoupled request with the one-time code",
    ),
    DASHBOARD_SESSION,
  ),
  json(
    'denyDecoupledRequest',
    assent('POST', `${DECOUPLED_PATHS.api}/:id/deny`, 'customer', "for the bank's app: denies a decoupled request"),
    DASHBOARD_SESSION,
  ),
  // Berlin Group NextGenPSD2 (issue 28): the operations served today, with the Berlin Group's operationIds.
  ...BG_ROUTES,
  assent('GET', `${DASHBOARD_PREFIX}/assets/dashboard.css`, 'anyone', "the dashboard's stylesheet"),
  assent('GET', '/assets/assent.css', 'anyone', "the pages' stylesheet"),
  assent('GET', '/assets/brand.css', 'anyone', "the bank's colours (BANK_COLOUR_*) as CSS custom properties"),
  // No credential: the operator keeps them off the public network by setting OPS_PORT.
  json('getLiveness', assent('GET', '/healthz', 'operator', 'liveness (on OPS_PORT when set)'), NONE),
  json('getReadiness', assent('GET', '/readyz', 'operator', 'readiness: 503 while the database is away (on OPS_PORT when set)'), NONE),
  { ...assent('GET', '/metrics', 'operator', 'Prometheus metrics (on OPS_PORT when set)'), credential: NONE },
];

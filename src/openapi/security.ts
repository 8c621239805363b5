import { SESSION_COOKIE } from '../dashboard/dashboard-session.ts';
import { type Credential, DISCOVERY_PATH, ENGINE_PATHS, type Route } from '../protocol/routes.ts';
import { SCOPE, type Scope } from '../protocol/scopes.ts';

/** The OpenAPI security schemes every credential of the route table is written with, and each route's requirements. */

const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  openid: 'OpenID Connect: the id token and UserInfo',
  offline_access: 'a refresh token',
  accounts: 'account-access consents (AISP)',
  payments: 'domestic-payment and domestic VRP consents (PISP)',
  fundsconfirmations: 'funds-confirmation consents (CBPII)',
  bank: "the bank API, for the bank's own resource servers",
  grant_management_query: 'Grant Management: read a grant of the client',
  grant_management_revoke: 'Grant Management: revoke a grant of the client',
};
const scopes = (...names: Scope[]) => Object.fromEntries(names.map((name) => [name, SCOPE_DESCRIPTIONS[name]]));

export function securitySchemes(issuer: string) {
  const tokenUrl = `${issuer}${ENGINE_PATHS.token}`;
  return {
    mutualTLS: {
      type: 'mutualTLS',
      description:
        'RFC 8705: the client certificate, issued under a trusted directory CA, that authenticates a tls_client_auth client or that its access token is bound to (cnf.x5t#S256). Behind a TLS-terminating proxy it arrives in the header the trusted proxy sets.',
    },
    // OpenAPI 3.1 has no scheme for proof of possession: the DPoP proof (RFC 9449) is a JWT in its own
    // `DPoP` request header, fresh for every request (htm, htu, ath, jti), beside `Authorization: DPoP
    // <token>`. An apiKey in that header is the one scheme type that names a header which must be
    // present; an operation requires it together with (AND) the OAuth scheme of the token it proves.
    dpopProof: {
      type: 'apiKey',
      in: 'header',
      name: 'DPoP',
      description:
        "RFC 9449 DPoP proof: a dpop+jwt signed with the key the access token is bound to (cnf.jkt), PS256 or ES256, with htm, htu, iat, jti and ath (the token's hash); the token itself is sent as `Authorization: DPoP <token>`. Not an API key: a new proof per request, replay-checked.",
    },
    // A client assertion travels in the form body, where no OpenAPI scheme type can point; the
    // discovery document (token_endpoint_auth_methods_supported, *_signing_alg_values_supported) states it.
    privateKeyJwt: {
      type: 'openIdConnect',
      openIdConnectUrl: `${issuer}${DISCOVERY_PATH}`,
      description:
        "RFC 7523 private_key_jwt client authentication: client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer and client_assertion (a JWT signed with a key of the client's registered JWKS, PS256 or ES256, aud = the issuer, single use) in the form body.",
    },
    tppClientCredentials: {
      type: 'oauth2',
      description: "a TPP's client_credentials access token, sender-constrained: with dpopProof or mutualTLS",
      flows: {
        clientCredentials: {
          tokenUrl,
          scopes: scopes(SCOPE.accounts, SCOPE.payments, SCOPE.fundsConfirmations, SCOPE.grantManagementQuery, SCOPE.grantManagementRevoke),
        },
      },
    },
    customerAccessToken: {
      type: 'oauth2',
      description:
        'the access token a customer granted to the client (PAR + authorization code with PKCE), sender-constrained: with dpopProof or mutualTLS',
      flows: {
        authorizationCode: {
          authorizationUrl: `${issuer}${ENGINE_PATHS.authorization}`,
          tokenUrl,
          refreshUrl: tokenUrl,
          scopes: scopes(SCOPE.openid, SCOPE.offlineAccess, SCOPE.accounts, SCOPE.payments, SCOPE.fundsConfirmations),
        },
      },
    },
    resourceServerClientCredentials: {
      type: 'oauth2',
      description:
        "a resource server's client_credentials access token (a client of kind resource_server, made by the operator with rs:create), sender-constrained: with dpopProof or mutualTLS",
      flows: { clientCredentials: { tokenUrl, scopes: scopes(SCOPE.bank) } },
    },
    registrationAccessToken: {
      type: 'http',
      scheme: 'bearer',
      description: 'RFC 7592: the registration_access_token returned at registration',
    },
    adminToken: {
      type: 'http',
      scheme: 'bearer',
      description: 'ADMIN_TOKEN (dev mode: DATA_DIR/admin-token); name yourself in X-Assent-Operator',
    },
    adminCertificate: { type: 'mutualTLS', description: 'a client certificate issued by ADMIN_CLIENT_CA_FILE; its CN is the operator' },
    customerSession: {
      type: 'apiKey',
      in: 'cookie',
      name: SESSION_COOKIE,
      description: "the customer's dashboard session (after their own sign-in with SCA)",
    },
  } as const;
}

export type SecuritySchemeName = keyof ReturnType<typeof securitySchemes>;
type Requirement = Partial<Record<SecuritySchemeName, string[]>>;

/** A sender-constrained token: any one of the scopes, each proven by DPoP or by the certificate. */
const senderConstrained = (scheme: SecuritySchemeName, anyScopeOf: readonly Scope[]): Requirement[] =>
  anyScopeOf.flatMap((scope) => [
    { [scheme]: [scope], dpopProof: [] },
    { [scheme]: [scope], mutualTLS: [] },
  ]);

/** The OpenAPI security requirements (alternatives; the schemes inside one all apply) of a route presenting `credential`. */
export function securityRequirements(route: Route, credential: Credential): Requirement[] {
  switch (credential.kind) {
    case 'none':
    case 'software_statement':
      return [];
    case 'client_authentication':
      return [{ privateKeyJwt: [] }, { mutualTLS: [] }];
    case 'client_credentials_token':
      return senderConstrained(
        route.caller === 'resource_server' ? 'resourceServerClientCredentials' : 'tppClientCredentials',
        credential.anyScopeOf,
      );
    case 'customer_access_token':
      return senderConstrained('customerAccessToken', credential.anyScopeOf);
    case 'registration_access_token':
      return [{ registrationAccessToken: [] }];
    case 'admin_credentials':
      return [{ adminToken: [] }, { adminCertificate: [] }];
    case 'dashboard_session':
      return [{ customerSession: [] }];
    case 'interaction':
      // The sign-in and consent pages answer a browser, never a program: no operation of the document.
      throw new Error(`${route.method} ${route.path}: an interaction's page is not a JSON operation`);
    case 'eidas_certificate':
      return [{ mutualTLS: [] }];
  }
}

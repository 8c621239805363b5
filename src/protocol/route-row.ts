import type { Scope } from './scopes.ts';

/**
 * The shape of one row of the route table (./routes.ts): who calls a route, how the caller proves itself,
 * which rate-limit policy guards it. Apart from the table so that the dialects' own rows
 * (./berlin-group-routes.ts) can be written in it without the table and its rows importing each other.
 */

export const RATE_LIMIT_POLICIES = ['login', 'otp', 'par', 'token', 'registration', 'backchannel'] as const;
export type RateLimitPolicy = (typeof RATE_LIMIT_POLICIES)[number];

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Who calls a route: `anyone` (public documents), `customer` (a browser), `client` (any registered
 * client authenticating itself), `tpp` (a TPP: with a software statement, a registration access token
 * or a client_credentials token at the consent API), `resource_server` (the bank's own), `operator`.
 */
export const CALLERS = ['anyone', 'customer', 'client', 'tpp', 'resource_server', 'operator'] as const;
export type Caller = (typeof CALLERS)[number];

/**
 * How the caller of a JSON API proves who it is; the OpenAPI document's security requirements follow from
 * it. Access tokens are always sender-constrained (DPoP or the mTLS certificate) and must carry at least one
 * scope of `anyScopeOf`.
 */
export type Credential =
  | { kind: 'none' }
  /** At the provider's endpoints: private_key_jwt or tls_client_auth. */
  | { kind: 'client_authentication' }
  | { kind: 'client_credentials_token'; anyScopeOf: readonly Scope[] }
  /** The access token a customer granted (PAR + authorization code). */
  | { kind: 'customer_access_token'; anyScopeOf: readonly Scope[] }
  /** RFC 7592: the token handed out at registration. */
  | { kind: 'registration_access_token' }
  /** RFC 7591: the signed software statement in the body is the credential. */
  | { kind: 'software_statement' }
  /** The admin token or an admin client certificate. */
  | { kind: 'admin_credentials' }
  /**
   * The browser holds the cookie of the live oidc-provider interaction named in the URL (with the form's
   * CSRF token bound to it). Not a signed-in customer: the password and one-time-code steps come before
   * the customer is authenticated.
   */
  | { kind: 'interaction' }
  /** The dashboard's own session cookie, after the customer's sign-in with SCA (pages: with the form's CSRF token). */
  | { kind: 'dashboard_session' }
  /**
   * Berlin Group NextGenPSD2: a TPP known by its eIDAS certificate (QWAC, over mTLS) and nothing else, no
   * prior registration; the certificate's PSD2 QC statement must give it `role`.
   */
  | { kind: 'eidas_certificate'; role: Psd2Role };

/** The PSD2 roles of an eIDAS certificate (ETSI TS 119 495): account servicing, payment initiation, account information, card-based payment instruments. */
export type Psd2Role = 'PSP_AS' | 'PSP_PI' | 'PSP_AI' | 'PSP_IC';

export interface Route {
  method: Method;
  path: string;
  /** `engine`: oidc-provider answers it; `assent`: one of Assent's routers; `admin`: the admin listener. */
  servedBy: 'engine' | 'assent' | 'admin';
  caller: Caller;
  rateLimit?: RateLimitPolicy;
  purpose: string;
  /** A JSON API's stable OpenAPI operationId; pages, redirects and stylesheets have none. */
  operationId?: string;
  /** When the caller proves itself otherwise than its kind usually does (see credentialOf). */
  credential?: Credential;
}

import type { X509Certificate } from 'node:crypto';
import { InvalidDistinguishedName, parseDistinguishedName } from '../http/distinguished-name.ts';
import { type OutboundFetch, OutboundFetchError } from '../http/outbound-fetch.ts';
import { certificateSubjectMatches } from '../http/certificate-subject.ts';
import { RegistrationError } from './registration-error.ts';
import { scopesForRoles } from './roles.ts';
import { FAPI_ALGORITHMS } from '../protocol/algorithms.ts';
import { CIBA_DELIVERY_MODES, CIBA_GRANT_TYPE } from '../protocol/ciba.ts';
import type { SoftwareStatementClaims } from './software-statement.ts';

/**
 * Turns what a TPP asked for into the client metadata Assent registers, within what its software
 * statement allows. Name, logo and scopes come from the statement; everything else is checked here
 * and then validated once more by oidc-provider (which also enforces sender-constrained tokens).
 */

const AUTH_METHODS = ['private_key_jwt', 'tls_client_auth'];
const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', CIBA_GRANT_TYPE];
const ALGORITHM_FIELDS = [
  'token_endpoint_auth_signing_alg',
  'request_object_signing_alg',
  'id_token_signed_response_alg',
  'authorization_signed_response_alg',
  'introspection_signed_response_alg',
  'userinfo_signed_response_alg',
  'backchannel_authentication_request_signing_alg',
];
/** Set by Assent from the software statement, or by the provider; never taken from the request. */
// client_kind too: a registered TPP is always a TPP, never the bank's own first-party client or a resource server.
const ASSIGNED_FIELDS = [
  'software_statement',
  'software_id',
  'org_id',
  'software_roles',
  'client_name',
  'logo_uri',
  'client_secret',
  'client_secret_expires_at',
  'client_kind',
];

export interface MetadataContext {
  /** The certificate the registration request came over, when one was presented. */
  certificate: X509Certificate | undefined;
  outbound: OutboundFetch;
}

const metadataError = (description: string, cause?: unknown) =>
  new RegistrationError('invalid_client_metadata', description, cause === undefined ? undefined : { cause });

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((item) => typeof item !== 'string')) {
    throw metadataError(`${field} must be a non-empty array of strings`);
  }
  return value as string[];
}

function checkRedirectUris(requested: unknown, claims: SoftwareStatementClaims): string[] {
  const uris = requested ?? claims.software_redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0 || uris.some((uri) => typeof uri !== 'string')) {
    throw new RegistrationError('invalid_redirect_uri', 'redirect_uris must be a non-empty array of strings');
  }
  for (const uri of uris as string[]) {
    if (!URL.canParse(uri) || new URL(uri).protocol !== 'https:')
      throw new RegistrationError('invalid_redirect_uri', `redirect_uri ${uri} must be an https URL`);
    if (!claims.software_redirect_uris.includes(uri)) {
      throw new RegistrationError(
        'invalid_redirect_uri',
        `redirect_uri ${uri} is not among the software statement's software_redirect_uris`,
      );
    }
  }
  return uris as string[];
}

function checkClientAuthentication(request: Record<string, unknown>, context: MetadataContext) {
  const method = request.token_endpoint_auth_method ?? 'private_key_jwt';
  if (typeof method !== 'string' || !AUTH_METHODS.includes(method)) {
    throw metadataError(`token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}`);
  }
  if (method !== 'tls_client_auth') return { token_endpoint_auth_method: method };
  const subject = request.tls_client_auth_subject_dn;
  if (typeof subject !== 'string' || subject === '') throw metadataError('tls_client_auth requires tls_client_auth_subject_dn');
  try {
    parseDistinguishedName(subject);
  } catch (error) {
    if (!(error instanceof InvalidDistinguishedName)) throw error;
    throw metadataError(`tls_client_auth_subject_dn is not an RFC 4514 distinguished name: ${error.message}`);
  }
  if (context.certificate && !certificateSubjectMatches(context.certificate, 'tls_client_auth_subject_dn', subject)) {
    throw metadataError('tls_client_auth_subject_dn does not match the certificate this registration was made with');
  }
  return { token_endpoint_auth_method: method, tls_client_auth_subject_dn: subject };
}

function checkAlgorithms(request: Record<string, unknown>) {
  for (const field of ALGORITHM_FIELDS) {
    const value = request[field];
    if (value !== undefined && (typeof value !== 'string' || !(FAPI_ALGORITHMS as readonly string[]).includes(value))) {
      throw metadataError(`${field} must be one of ${FAPI_ALGORITHMS.join(', ')}`);
    }
  }
}

function checkJwks(value: unknown) {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (typeof value !== 'object' || value === null || !Array.isArray(keys) || keys.length === 0) {
    throw metadataError('jwks must be a JWK Set with at least one key');
  }
  if (keys.some((key) => typeof key !== 'object' || key === null || 'd' in key || 'k' in key)) {
    throw metadataError('jwks must hold public keys only');
  }
}

/** Keys by value or by reference, one of the two; a jwks_uri must be reachable through the SSRF guard now. */
async function checkKeys(request: Record<string, unknown>, claims: SoftwareStatementClaims, context: MetadataContext) {
  if (request.jwks !== undefined && request.jwks_uri !== undefined) throw metadataError('jwks and jwks_uri are mutually exclusive');
  if (request.jwks !== undefined) {
    checkJwks(request.jwks);
    return { jwks: request.jwks };
  }
  const uri = request.jwks_uri ?? claims.software_jwks_endpoint;
  if (uri === undefined) {
    if (!claims.software_jwks) throw metadataError('jwks or jwks_uri is required');
    return { jwks: claims.software_jwks };
  }
  if (typeof uri !== 'string') throw metadataError('jwks_uri must be a string');
  try {
    checkJwks(await context.outbound.json(uri));
  } catch (error) {
    if (error instanceof OutboundFetchError) throw metadataError(`jwks_uri cannot be used: ${error.message}`, error);
    if (error instanceof RegistrationError) throw metadataError(`jwks_uri does not serve a usable JWK Set: ${error.message}`, error);
    throw error;
  }
  return { jwks_uri: uri };
}

function checkGrantTypes(requested: unknown) {
  const grantTypes = requested === undefined ? ['authorization_code', 'refresh_token'] : stringList(requested, 'grant_types');
  const refused = grantTypes.find((type) => !GRANT_TYPES.includes(type));
  if (refused) throw metadataError(`grant_type ${refused} is not allowed; use ${GRANT_TYPES.join(', ')}`);
  return grantTypes;
}

/**
 * FAPI-CIBA: a client of the CIBA grant signs its authentication requests (PS256 or ES256), takes its
 * tokens by poll or ping (never push), and is pinged only at an https endpoint (fetched through the
 * SSRF guard like every other URL a TPP names).
 */
function checkCiba(request: Record<string, unknown>, grantTypes: readonly string[]) {
  if (!grantTypes.includes(CIBA_GRANT_TYPE)) return;
  const mode = request.backchannel_token_delivery_mode;
  if (!(CIBA_DELIVERY_MODES as readonly unknown[]).includes(mode))
    throw metadataError(`backchannel_token_delivery_mode must be one of ${CIBA_DELIVERY_MODES.join(', ')}`);
  if (request.backchannel_authentication_request_signing_alg === undefined)
    throw metadataError(
      `backchannel_authentication_request_signing_alg is required (${FAPI_ALGORITHMS.join(' or ')}): CIBA requests are signed`,
    );
  const endpoint = request.backchannel_client_notification_endpoint;
  if (mode === 'ping' && !(typeof endpoint === 'string' && URL.canParse(endpoint) && new URL(endpoint).protocol === 'https:')) {
    throw metadataError('backchannel_client_notification_endpoint must be an https URL for ping mode');
  }
}

function checkResponseTypes(requested: unknown) {
  const responseTypes = requested === undefined ? ['code'] : stringList(requested, 'response_types');
  if (responseTypes.some((type) => type !== 'code')) throw metadataError('response_types must be ["code"]');
  return responseTypes;
}

function checkScope(requested: unknown, claims: SoftwareStatementClaims) {
  const allowed = scopesForRoles(claims.software_roles);
  if (requested === undefined) return allowed.join(' ');
  if (typeof requested !== 'string') throw metadataError('scope must be a space-separated string');
  const refused = requested
    .split(' ')
    .filter(Boolean)
    .find((scope) => !allowed.includes(scope));
  if (refused) throw metadataError(`scope ${refused} is not permitted for roles ${claims.software_roles.join(', ')}`);
  return requested;
}

export async function buildClientMetadata(
  request: Record<string, unknown>,
  claims: SoftwareStatementClaims,
  context: MetadataContext,
): Promise<Record<string, unknown>> {
  const passed = Object.fromEntries(Object.entries(request).filter(([field]) => !ASSIGNED_FIELDS.includes(field)));
  checkAlgorithms(request);
  const grantTypes = checkGrantTypes(request.grant_types);
  checkCiba(request, grantTypes);
  return {
    ...passed,
    redirect_uris: checkRedirectUris(request.redirect_uris, claims),
    ...checkClientAuthentication(request, context),
    ...(await checkKeys(request, claims, context)),
    grant_types: grantTypes,
    response_types: checkResponseTypes(request.response_types),
    scope: checkScope(request.scope, claims),
    client_name: claims.software_client_name,
    ...(claims.software_logo_uri && { logo_uri: claims.software_logo_uri }),
  };
}

/** The fields worth an audit record: how the client authenticates, where it redirects, what it may do. */
export function auditedClientFields(metadata: Record<string, unknown>): Record<string, unknown> {
  const fields = [
    'redirect_uris',
    'token_endpoint_auth_method',
    'tls_client_auth_subject_dn',
    'jwks_uri',
    'grant_types',
    'scope',
    'dpop_bound_access_tokens',
    'tls_client_certificate_bound_access_tokens',
    'fapi_profile',
    'backchannel_token_delivery_mode',
    'backchannel_client_notification_endpoint',
    'backchannel_authentication_request_signing_alg',
  ];
  const picked = Object.fromEntries(fields.filter((field) => metadata[field] !== undefined).map((field) => [field, metadata[field]]));
  const keys = (metadata.jwks as { keys?: { kid?: string }[] } | undefined)?.keys;
  return keys ? { ...picked, jwks_kids: keys.map((key) => key.kid ?? null) } : picked;
}

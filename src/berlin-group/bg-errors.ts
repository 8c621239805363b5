import type { AssentError, AssentErrorCode } from '../protocol/assent-error.ts';

/**
 * The Berlin Group NextGenPSD2 (v1.3.x) error model, in one table: every message code Assent answers with,
 * the HTTP statuses the guidelines give it, and how each of Assent's service errors reads as one.
 *
 * Sources, checked against each other:
 * - The NextGenPSD2 OpenAPI file, psd2-api v1.3.11 (2021-10-01), as adorsys/xs2a ships it
 *   (xs2a-impl/src/main/resources/static/psd2-api_v1.3.11-2021-10-01v1.yaml): the responses
 *   BAD_REQUEST_400_*, UNAUTHORIZED_401_*, FORBIDDEN_403_*, NOT_FOUND_404_*, METHOD_NOT_ALLOWED_405_*
 *   (and _PIS_CANC), CONFLICT_409_*, TOO_MANY_REQUESTS_429_AIS carry `tppMessages` with a MessageCodeNNN_XXX;
 *   UNSUPPORTED_MEDIA_TYPE_415_*, INTERNAL_SERVER_ERROR_500_*, SERVICE_UNAVAILABLE_503_* and
 *   TOO_MANY_REQUESTS_429_PIS say "No Response body because there are no valid message codes".
 * - The enums of those MessageCodeNNN_XXX types in the Berlin Group's own file (adorsys' copy drops them;
 *   its generated models de.adorsys.psd2.model.MessageCode400AIS ... MessageCode429AIS, and the SDKs generated
 *   from the Berlin Group's file, keep them): which status each code appears under. A code listed under two
 *   statuses (CONSENT_UNKNOWN, RESOURCE_UNKNOWN, RESOURCE_EXPIRED, SERVICE_INVALID) has one per way it is
 *   addressed; adorsys/xs2a's MessageErrorCode (CONSENT_UNKNOWN_403 "because of path", CONSENT_UNKNOWN_400
 *   "because of payload", SERVICE_INVALID_405 for an HTTP method) reads them the same way.
 * - The file spells one code CERTIFICATE_REVOKE; the Implementation Guidelines' table and adorsys/xs2a say
 *   CERTIFICATE_REVOKED. Assent answers CERTIFICATE_REVOKED.
 * - FREQUENCY_INVALID is no NextGenPSD2 code: a frequencyPerDay Assent refuses is a FORMAT_ERROR on that field.
 */

/**
 * Where the faulty thing was named, when a code's status depends on it: the path itself (no such route, an
 * account of the path), a resource other than an account named in the path (a payment, an authorisation),
 * the payload, the HTTP method.
 */
export type BgAddressed = 'path' | 'resource' | 'payload' | 'method';

interface BgCodeRow {
  /** The status when nothing else is said. */
  status: number;
  /** Other statuses the guidelines give this code, by how the faulty thing was addressed. */
  by?: Partial<Record<BgAddressed, number>>;
  /** The guidelines' meaning, used as the text when the caller has nothing more precise. */
  text: string;
}

export const BG_MESSAGE_CODES = {
  // 400 (MessageCode400_AIS / _PIS)
  FORMAT_ERROR: { status: 400, text: 'Format of certain request fields are not matching the XS2A requirements.' },
  PARAMETER_NOT_CONSISTENT: { status: 400, text: 'Parameters submitted by TPP are not consistent.' },
  PARAMETER_NOT_SUPPORTED: { status: 400, text: 'The parameter is not supported by the API provider.' },
  SERVICE_INVALID: {
    status: 400,
    by: { payload: 400, method: 405 },
    text: 'The addressed service is not valid for the addressed resources or the submitted data.',
  },
  // Listed under 400, 403 and 404. The Implementation Guidelines' table: 404 "if account-id in path", 403 "if
  // other resource in path", 400 "if payload". So a payment id of the path that is not the TPP's is 403 (as
  // adorsys/xs2a answers an unknown payment id, RESOURCE_UNKNOWN_403); a path Assent does not serve at all is
  // 404.
  RESOURCE_UNKNOWN: {
    status: 404,
    by: { path: 404, resource: 403, payload: 400 },
    text: 'The addressed resource is unknown relative to the TPP.',
  },
  RESOURCE_EXPIRED: {
    status: 403,
    by: { path: 403, payload: 400 },
    text: 'The addressed resource is associated with the TPP but has expired, not addressable anymore.',
  },
  RESOURCE_BLOCKED: { status: 400, text: 'The addressed resource is not addressable by this request, since it is blocked.' },
  TIMESTAMP_INVALID: { status: 400, text: 'Timestamp not in accepted time period.' },
  PERIOD_INVALID: { status: 400, text: 'Requested time period out of bound.' },
  SCA_METHOD_UNKNOWN: { status: 400, text: 'Addressed SCA method is unknown or cannot be matched by the ASPSP with the PSU.' },
  CONSENT_UNKNOWN: {
    status: 403,
    by: { path: 403, payload: 400 },
    text: 'The Consent-ID cannot be matched by the ASPSP relative to the TPP.',
  },
  SESSIONS_NOT_SUPPORTED: { status: 400, text: 'The combined service flag may not be used with this ASPSP.' },
  PAYMENT_FAILED: { status: 400, text: 'The payment initiation POST request failed during the initial process.' },
  EXECUTION_DATE_INVALID: { status: 400, text: 'The requested execution date is not a valid execution date for the ASPSP.' },
  // 401 (MessageCode401_AIS / _PIS)
  CERTIFICATE_INVALID: {
    status: 401,
    text: 'The contents of the signature/corporate seal certificate are not matching PSD2 general PSD2 or attribute requirements.',
  },
  ROLE_INVALID: { status: 401, text: 'The TPP does not have the correct PSD2 role to access this service.' },
  CERTIFICATE_EXPIRED: { status: 401, text: 'Signature/corporate seal certificate is expired.' },
  CERTIFICATE_BLOCKED: { status: 401, text: 'Signature/corporate seal certificate has been blocked by the ASPSP.' },
  CERTIFICATE_REVOKED: { status: 401, text: 'Signature/corporate seal certificate has been revoked by QSTP.' },
  CERTIFICATE_MISSING: { status: 401, text: 'Signature/corporate seal certificate was not available in the request but is mandated.' },
  SIGNATURE_INVALID: { status: 401, text: 'Application layer eIDAS Signature for TPP authentication is not correct.' },
  SIGNATURE_MISSING: {
    status: 401,
    text: 'Application layer eIDAS Signature for TPP authentication is mandated by the ASPSP but is missing.',
  },
  CORPORATE_ID_INVALID: { status: 401, text: 'The PSU-Corporate-ID cannot be matched by the addressed ASPSP.' },
  PSU_CREDENTIALS_INVALID: { status: 401, text: 'The PSU-ID cannot be matched by the addressed ASPSP or is blocked.' },
  CONSENT_INVALID: { status: 401, text: 'The consent was created by this TPP but is not valid for the addressed service/resource.' },
  CONSENT_EXPIRED: { status: 401, text: 'The consent was created by this TPP but has expired and needs to be renewed.' },
  TOKEN_UNKNOWN: { status: 401, text: 'The OAuth2 token cannot be matched by the ASPSP relative to the TPP.' },
  TOKEN_INVALID: { status: 401, text: 'The OAuth2 token is associated to the TPP but is not valid for the addressed service/resource.' },
  TOKEN_EXPIRED: { status: 401, text: 'The OAuth2 token is associated to the TPP but has expired and needs to be renewed.' },
  // 403 (MessageCode403_AIS / _PIS)
  SERVICE_BLOCKED: { status: 403, text: 'This service is not reachable for the addressed PSU due to a channel independent blocking.' },
  PRODUCT_INVALID: { status: 403, text: 'The addressed payment product is not available for the PSU.' },
  // 404 (MessageCode404_PIS)
  PRODUCT_UNKNOWN: { status: 404, text: 'The addressed payment product is not supported by the ASPSP.' },
  // 405 (MessageCode405_PIS_CANC)
  CANCELLATION_INVALID: { status: 405, text: 'The addressed payment is not cancellable.' },
  // 406 (MessageCode406_AIS / _PIS)
  REQUESTED_FORMATS_INVALID: {
    status: 406,
    text: 'The requested formats in the Accept header entry are not matching the formats offered.',
  },
  // 409 (MessageCode409_AIS / _PIS)
  STATUS_INVALID: { status: 409, text: 'The addressed resource does not allow additional authorisation.' },
  // 429 (MessageCode429_AIS)
  ACCESS_EXCEEDED: { status: 429, text: 'The access on the account has been exceeding the consented multiplicity per day.' },
} as const satisfies Record<string, BgCodeRow>;

export type BgMessageCode = keyof typeof BG_MESSAGE_CODES;

/** The HTTP status of a message code, as addressed (a code with one status ignores `addressed`). */
export function bgStatusOf(code: BgMessageCode, addressed?: BgAddressed): number {
  const row: BgCodeRow = BG_MESSAGE_CODES[code];
  return (addressed && row.by?.[addressed]) ?? row.status;
}

/** Every status the guidelines give a code. */
export function bgStatusesOf(code: BgMessageCode): number[] {
  const row: BgCodeRow = BG_MESSAGE_CODES[code];
  return [...new Set([row.status, ...Object.values(row.by ?? {})])];
}

export interface BgErrorRow {
  code: BgMessageCode;
  addressed?: BgAddressed;
  path?: string;
}

/**
 * How each service error reads on the Berlin Group routes. A code without a row is not something those
 * routes can cause: it is answered as an unexpected error (500, no body).
 */
const BG_ERRORS: Record<AssentErrorCode, BgErrorRow | undefined> = {
  consent_not_found: { code: 'CONSENT_UNKNOWN', addressed: 'path' },
  consent_expired: { code: 'CONSENT_EXPIRED' },
  consent_status_invalid: { code: 'STATUS_INVALID' },
  idempotency_conflict: { code: 'FORMAT_ERROR', path: 'X-Request-ID' },
  request_body_invalid: { code: 'FORMAT_ERROR' },
  account_selection_invalid: undefined,
  consent_binding_refused: undefined,
  payment_changed: undefined,
  tpp_not_found: undefined,
  tpp_state_invalid: undefined,
  csrf_rejected: undefined,
  sign_in_failed: undefined,
  subscription_exists: undefined,
  subscription_not_found: undefined,
  grant_not_found: undefined,
  grant_not_usable: undefined,
  certificate_invalid: { code: 'CERTIFICATE_INVALID' },
  certificate_expired: { code: 'CERTIFICATE_EXPIRED' },
  certificate_blocked: { code: 'CERTIFICATE_BLOCKED' },
  role_invalid: { code: 'ROLE_INVALID' },
  signature_invalid: { code: 'SIGNATURE_INVALID' },
};

/** The Berlin Group code (and how it was addressed) of a service error, or undefined when the table has no row. */
export function bgErrorRowOf(error: AssentError): BgErrorRow | undefined {
  return BG_ERRORS[error.code];
}

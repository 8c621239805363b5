import type { AssentError, AssentErrorCode } from '../protocol/assent-error.ts';
import type { ObErrorCode } from '../protocol/ob-error-codes.ts';

/**
 * How each service error reads in the UK OB error envelope, for the consent API and the bank API alike.
 * A code without a row is not something those APIs can cause: it is answered as an unexpected error.
 */
const OB_ERRORS: Record<AssentErrorCode, { status: number; code: ObErrorCode; path?: string } | undefined> = {
  consent_not_found: { status: 404, code: 'UK.OBIE.Resource.NotFound', path: 'ConsentId' },
  consent_expired: { status: 400, code: 'UK.OBIE.Resource.InvalidConsentStatus', path: 'Status' },
  consent_status_invalid: { status: 400, code: 'UK.OBIE.Resource.InvalidConsentStatus', path: 'Status' },
  idempotency_conflict: { status: 400, code: 'UK.OBIE.Header.Invalid', path: 'x-idempotency-key' },
  request_body_invalid: { status: 400, code: 'UK.OBIE.Resource.InvalidFormat' },
  account_selection_invalid: undefined,
  consent_binding_refused: undefined,
  payment_changed: undefined,
  tpp_not_found: undefined,
  tpp_state_invalid: undefined,
  csrf_rejected: undefined,
  sign_in_failed: undefined,
  subscription_exists: { status: 409, code: 'UK.OBIE.Field.Invalid', path: 'Data' },
  subscription_not_found: { status: 404, code: 'UK.OBIE.Resource.NotFound' },
  grant_not_found: undefined,
  grant_not_usable: undefined,
  certificate_invalid: undefined,
  certificate_expired: undefined,
  certificate_blocked: undefined,
  role_invalid: undefined,
  signature_invalid: undefined,
};

/** The envelope's status and entry for a service error, or undefined when the table has no row for it. */
export function obErrorRowOf(error: AssentError): { status: number; code: ObErrorCode; path?: string } | undefined {
  return OB_ERRORS[error.code];
}

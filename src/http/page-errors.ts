import type { AssentError, AssentErrorCode } from '../protocol/assent-error.ts';

/**
 * The status of each service error on a customer's page, which then shows the error's own message and
 * code. A code without a row never reaches a page on purpose: it is shown as an unexpected error.
 */
const PAGE_STATUS: Record<AssentErrorCode, number | undefined> = {
  csrf_rejected: 403,
  sign_in_failed: 400,
  consent_not_found: 404,
  consent_expired: 400,
  payment_changed: 403,
  account_selection_invalid: 400,
  consent_binding_refused: 400,
  // 413 and 415 as the form reader decided.
  request_body_invalid: 400,
  consent_status_invalid: undefined,
  idempotency_conflict: undefined,
  tpp_not_found: undefined,
  tpp_state_invalid: undefined,
  subscription_exists: undefined,
  subscription_not_found: undefined,
  grant_not_found: undefined,
  grant_not_usable: undefined,
  certificate_invalid: undefined,
  certificate_expired: undefined,
  certificate_blocked: undefined,
  role_invalid: undefined,
  signature_invalid: undefined,
};

/** What the error page shows for a service error; undefined for one it must not explain. */
export function pageErrorOf(error: AssentError): { status: number; message: string; code: string } | undefined {
  const status = PAGE_STATUS[error.code];
  if (status === undefined) return undefined;
  return { status: error.code === 'request_body_invalid' ? error.status : status, message: error.message, code: error.code };
}

import type { AssentErrorCode } from '../protocol/assent-error.ts';
import type { AdminErrorCode } from './admin-operation.ts';

/** The admin API's one table for service errors an operation did not translate itself. */
export const ADMIN_ERROR_OF: Record<AssentErrorCode, AdminErrorCode> = {
  consent_not_found: 'not_found',
  consent_expired: 'conflict',
  consent_status_invalid: 'conflict',
  account_selection_invalid: 'invalid_request',
  idempotency_conflict: 'conflict',
  consent_binding_refused: 'conflict',
  payment_changed: 'conflict',
  tpp_not_found: 'not_found',
  tpp_state_invalid: 'conflict',
  csrf_rejected: 'invalid_request',
  request_body_invalid: 'invalid_request',
  sign_in_failed: 'invalid_request',
  subscription_exists: 'conflict',
  subscription_not_found: 'not_found',
  grant_not_found: 'not_found',
  grant_not_usable: 'conflict',
  certificate_invalid: 'invalid_request',
  certificate_expired: 'invalid_request',
  certificate_blocked: 'conflict',
  role_invalid: 'invalid_request',
  signature_invalid: 'invalid_request',
};

import { errors } from 'oidc-provider';
import { InvalidGrantId } from './grant-management.ts';
import { AssentError, type AssentErrorCode } from '../protocol/assent-error.ts';

/** oidc-provider's error classes, each built from an error_description. */
type OAuthErrorClass = new (description: string) => Error;

/**
 * How each service error reads at oidc-provider's endpoints (the OAuth `error` code). Inside
 * authorization_details every refusal is `invalid_authorization_details` (RFC 9396 section 5).
 */
const OAUTH_ERRORS: Record<AssentErrorCode, OAuthErrorClass | undefined> = {
  consent_binding_refused: errors.InvalidRequest,
  consent_not_found: errors.InvalidRequest,
  consent_expired: errors.InvalidRequest,
  consent_status_invalid: errors.InvalidRequest,
  account_selection_invalid: undefined,
  idempotency_conflict: undefined,
  payment_changed: undefined,
  tpp_state_invalid: undefined,
  csrf_rejected: undefined,
  request_body_invalid: undefined,
  sign_in_failed: undefined,
  subscription_exists: undefined,
  subscription_not_found: undefined,
  grant_not_found: InvalidGrantId,
  grant_not_usable: errors.AccessDenied,
};

/** The OAuth error for a service error with a row; anything else unchanged (the provider answers server_error). */
export function toOAuthError(error: unknown, within?: 'authorization_details'): unknown {
  if (!(error instanceof AssentError)) return error;
  const row = OAUTH_ERRORS[error.code];
  if (!row) return error;
  return within === 'authorization_details' ? new errors.InvalidAuthorizationDetails(error.message) : new row(error.message);
}

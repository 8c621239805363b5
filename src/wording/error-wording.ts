import type { MessageKey, MessageParams } from './messages.ts';
import type { Wording } from './wording.ts';

/**
 * What a customer is told when a page cannot go on: plain words for what happened, by the error's
 * class (oidc-provider's `name`) or OAuth code, never the library's own description. The code itself
 * is shown separately, small, for the TPP's support.
 */

const BY_NAME: Record<string, MessageKey> = {
  SessionNotFound: 'error.sessionLost',
  InvalidRequestUri: 'error.linkExpired',
};

/** OAuth codes, and the codes of Assent's own errors that reach a page (http/page-errors.ts). */
const BY_CODE: Record<string, MessageKey> = {
  csrf_rejected: 'error.formExpired',
  consent_expired: 'error.consentExpired',
  consent_not_found: 'error.consentGone',
  consent_binding_refused: 'error.invalidRequest',
  account_selection_invalid: 'consent.error.accountUnusable',
  payment_changed: 'error.paymentChanged',
  sign_in_failed: 'dash.signIn.failed',
  invalid_request_uri: 'error.linkExpired',
  invalid_client: 'error.clientUnknown',
  unauthorized_client: 'error.clientUnknown',
  access_denied: 'error.accessDenied',
  server_error: 'error.server',
  temporarily_unavailable: 'error.server',
};

export interface CustomerFacingError {
  name?: string | undefined;
  error?: string | undefined;
}

export function customerErrorKey({ name, error }: CustomerFacingError): MessageKey {
  return (name && BY_NAME[name]) || (error && BY_CODE[error]) || 'error.invalidRequest';
}

/** `params` fills the sentence's placeholders (the expired link's `{seconds}`). */
export function customerErrorMessage(w: Wording, error: CustomerFacingError, params: MessageParams = {}): string {
  return w.t(customerErrorKey(error), params);
}

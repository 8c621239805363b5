/**
 * The one base of the errors Assent's services throw, in the manner of jose's JOSEError and
 * oidc-provider's OIDCProviderError: a stable `code` from one union, the HTTP `status` it means where
 * a protocol's table says nothing more, whether its message may be shown to the caller (`expose`),
 * and the `cause`. Services throw these and never speak a protocol; each edge maps codes through its
 * one table: OAuth (oidc/oauth-errors.ts), the UK OB envelope (ob-api/ob-errors.ts), pages
 * (http/page-errors.ts).
 */

export type AssentErrorCode =
  | 'consent_not_found'
  | 'consent_expired'
  | 'consent_status_invalid'
  | 'account_selection_invalid'
  | 'idempotency_conflict'
  | 'consent_binding_refused'
  | 'payment_changed'
  | 'tpp_not_found'
  | 'tpp_state_invalid'
  | 'csrf_rejected'
  | 'request_body_invalid'
  | 'sign_in_failed'
  | 'subscription_exists'
  | 'subscription_not_found'
  | 'grant_not_found'
  | 'grant_not_usable'
  | 'certificate_invalid'
  | 'certificate_expired'
  | 'certificate_blocked'
  | 'role_invalid'
  | 'signature_invalid';

export interface AssentErrorOptions {
  status?: number;
  expose?: boolean;
  cause?: unknown;
}

export class AssentError extends Error {
  readonly code: AssentErrorCode;
  readonly status: number;
  readonly expose: boolean;
  constructor(code: AssentErrorCode, message: string, options: AssentErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 400;
    this.expose = options.expose ?? this.status < 500;
  }
}

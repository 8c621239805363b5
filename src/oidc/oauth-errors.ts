import type { Middleware } from 'koa';
import { errors } from 'oidc-provider';
import type { Logger } from 'pino';
import { TokenRejected } from '../http/presented-token.ts';
import { AccessRefused } from '../http/route-guard.ts';
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
  tpp_not_found: undefined,
  tpp_state_invalid: undefined,
  csrf_rejected: undefined,
  request_body_invalid: undefined,
  sign_in_failed: undefined,
  subscription_exists: undefined,
  subscription_not_found: undefined,
  grant_not_found: InvalidGrantId,
  grant_not_usable: errors.AccessDenied,
  certificate_invalid: undefined,
  certificate_expired: undefined,
  certificate_blocked: undefined,
  role_invalid: undefined,
  signature_invalid: undefined,
};

/** The OAuth error for a service error with a row; anything else unchanged (the provider answers server_error). */
export function toOAuthError(error: unknown, within?: 'authorization_details'): unknown {
  if (!(error instanceof AssentError)) return error;
  const row = OAUTH_ERRORS[error.code];
  if (!row) return error;
  return within === 'authorization_details' ? new errors.InvalidAuthorizationDetails(error.message) : new row(error.message);
}

/** An OAuth error of Assent's own token routes: its status, `error` code, description and challenge. */
interface OAuthAnswer {
  status: number;
  error: string;
  description: string;
  /** WWW-Authenticate's challenge, and DPoP-Nonce's fresh nonce for use_dpop_nonce. */
  headers?: Record<string, string>;
}

/**
 * The route guard's refusals in OAuth's words (RFC 6750, and RFC 9449 for a DPoP proof), and service
 * errors through the table above; on a resource route the service error's own status stands (a grant
 * that is not there is 404), the table gives the code.
 */
function oauthAnswerOf(caught: unknown): OAuthAnswer | undefined {
  if (caught instanceof TokenRejected)
    return {
      status: 401,
      error: caught.error,
      description: caught.message,
      headers: caught.headers,
    };
  if (caught instanceof AccessRefused)
    return { status: 403, error: 'insufficient_scope', description: caught.message, headers: { 'www-authenticate': caught.challenge } };
  if (!(caught instanceof AssentError) || !caught.expose) return undefined;
  const row = OAUTH_ERRORS[caught.code];
  if (!row) return undefined;
  return { status: caught.status, error: (new row(caught.message) as errors.OIDCProviderError).error, description: caught.message };
}

/**
 * The one error handler of Assent's own routes that speak OAuth JSON (Grant Management): `{error,
 * error_description}` with the challenge in WWW-Authenticate; anything else is logged and answered as
 * server_error without details.
 */
export function oauthApiErrors(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (caught) {
      const answer = oauthAnswerOf(caught);
      if (!answer) {
        logger.error({ err: caught, path: ctx.path }, 'request failed');
        ctx.status = 500;
        ctx.body = { error: 'server_error', error_description: 'unexpected error' };
        return;
      }
      ctx.status = answer.status;
      if (answer.headers) ctx.set(answer.headers);
      ctx.body = { error: answer.error, error_description: answer.description };
    }
  };
}

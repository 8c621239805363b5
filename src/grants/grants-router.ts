import { Router } from '@koa/router';
import type { Context, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Db } from '../db/connect.ts';
import type { ClientCertificateReader } from '../http/client-certificate.ts';
import { TokenRejected, verifyPresentedToken } from '../ob-api/client-token.ts';
import { GRANTS_PATH } from '../protocol/routes.ts';
import { GRANT_MANAGEMENT_QUERY, GRANT_MANAGEMENT_REVOKE } from '../oidc/grant-management.ts';
import { describeGrant, GrantNotFound, revokeGrant } from './grant-service.ts';

export interface GrantsApiDeps {
  provider: Provider;
  db: Db;
  presentedCertificate: ClientCertificateReader;
  logger: Logger;
}

/** A Grant Management failure, answered as an OAuth error (RFC 6750 for the token). */
class GrantApiError extends Error {
  override name = 'GrantApiError';
  readonly status: number;
  readonly code: string;
  readonly challenge: string | undefined;
  constructor(status: number, code: string, description: string, challenge?: string) {
    super(description);
    this.status = status;
    this.code = code;
    this.challenge = challenge;
  }
}

function grantApiErrors(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    ctx.set('cache-control', 'no-store');
    try {
      await next();
    } catch (caught) {
      const error = caught instanceof GrantNotFound ? new GrantApiError(404, 'invalid_grant_id', 'no such grant') : caught;
      if (!(error instanceof GrantApiError)) {
        logger.error({ err: caught, path: ctx.path }, 'grant management request failed');
        ctx.status = 500;
        ctx.body = { error: 'server_error', error_description: 'unexpected error' };
        return;
      }
      ctx.status = error.status;
      if (error.challenge) ctx.set('www-authenticate', error.challenge);
      ctx.body = { error: error.code, error_description: error.message };
    }
  };
}

/** The client's own sender-constrained client_credentials token carrying `scope`. */
function requireScope(deps: GrantsApiDeps, scope: string) {
  return async function checkGrantToken(ctx: Context, next: Next) {
    let token;
    try {
      token = await verifyPresentedToken(deps.provider, deps.presentedCertificate, ctx, 'ClientCredentials');
    } catch (error) {
      if (!(error instanceof TokenRejected)) throw error;
      const scheme = error.header === 'DPoP' ? 'DPoP error="invalid_dpop_proof"' : 'Bearer error="invalid_token"';
      throw new GrantApiError(401, error.header === 'DPoP' ? 'invalid_dpop_proof' : 'invalid_token', error.message, `${scheme}, error_description="${error.message}"`);
    }
    if (!token.scopes.has(scope)) throw new GrantApiError(403, 'insufficient_scope', `the access token lacks the ${scope} scope`, `Bearer error="insufficient_scope", scope="${scope}"`);
    (ctx.state as { clientId: string }).clientId = token.clientId;
    await next();
  };
}

const clientOf = (ctx: Context) => (ctx.state as { clientId: string }).clientId;

/**
 * FAPI Grant Management's endpoint: GET answers what a grant holds, DELETE revokes it with its
 * consents and tokens. Only the client the grant belongs to sees it; for any other it does not exist.
 */
export function grantsApiRouter(deps: GrantsApiDeps) {
  const { provider, db } = deps;
  const router = new Router({ prefix: GRANTS_PATH });
  router.use(grantApiErrors(deps.logger));
  router.get('/:grantId', requireScope(deps, GRANT_MANAGEMENT_QUERY), async (ctx) => {
    ctx.body = await describeGrant(provider, db, clientOf(ctx), ctx.params.grantId ?? '');
  });
  router.delete('/:grantId', requireScope(deps, GRANT_MANAGEMENT_REVOKE), async (ctx) => {
    await revokeGrant(provider, db, clientOf(ctx), ctx.params.grantId ?? '');
    ctx.status = 204;
  });
  return router;
}

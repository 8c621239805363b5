import { Router } from '@koa/router';
import type { Context, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Db } from '../db/connect.ts';
import type { ClientCertificateReader } from '../http/client-certificate.ts';
import { declaredRoutes } from '../http/declared-routes.ts';
import { TokenRejected } from '../http/presented-token.ts';
import { AccessRefused } from '../http/route-guard.ts';
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

/** OAuth's reading of the route guard's refusals (RFC 6750, and RFC 9449 for a DPoP proof) and of the service's. */
function grantApiErrorOf(caught: unknown): unknown {
  if (caught instanceof GrantNotFound) return new GrantApiError(404, 'invalid_grant_id', 'no such grant');
  if (caught instanceof TokenRejected) return new GrantApiError(401, caught.header === 'DPoP' ? 'invalid_dpop_proof' : 'invalid_token', caught.message, caught.challenge);
  if (caught instanceof AccessRefused) return new GrantApiError(403, 'insufficient_scope', caught.message, caught.challenge);
  return caught;
}

function grantApiErrors(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    ctx.set('cache-control', 'no-store');
    try {
      await next();
    } catch (caught) {
      const error = grantApiErrorOf(caught);
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

/**
 * FAPI Grant Management's endpoint: GET answers what a grant holds, DELETE revokes it with its
 * consents and tokens. Only the client the grant belongs to sees it; for any other it does not exist.
 * The route table's rows name each method's scope (grant_management_query, grant_management_revoke).
 */
export function grantsApiRouter(deps: GrantsApiDeps) {
  const { provider, db } = deps;
  const router = new Router();
  router.use(grantApiErrors(deps.logger));
  const routes = declaredRoutes(router, deps);
  routes.client('getGrant', async (ctx) => {
    ctx.body = await describeGrant(provider, db, ctx.state.caller.clientId, ctx.params.grantId ?? '');
  });
  routes.client('revokeGrant', async (ctx) => {
    await revokeGrant(provider, db, ctx.state.caller.clientId, ctx.params.grantId ?? '');
    ctx.status = 204;
  });
  return router;
}

import { Router } from '@koa/router';
import type { Context, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Db } from '../db/connect.ts';
import type { ClientCertificateReader } from '../http/client-certificate.ts';
import { declaredRoutes } from '../http/declared-routes.ts';
import { oauthApiErrors } from '../oidc/oauth-errors.ts';
import { describeGrant, revokeGrant } from './grant-service.ts';

export interface GrantsApiDeps {
  provider: Provider;
  db: Db;
  presentedCertificate: ClientCertificateReader;
  logger: Logger;
}

/** Neither a grant's contents nor a refusal may be kept by a cache. */
function noStore(ctx: Context, next: Next) {
  ctx.set('cache-control', 'no-store');
  return next();
}

/**
 * FAPI Grant Management's endpoint: GET answers what a grant holds, DELETE revokes it with its
 * consents and tokens. Only the client the grant belongs to sees it; for any other it does not exist.
 * The route table's rows name each method's scope (grant_management_query, grant_management_revoke).
 */
export function grantsApiRouter(deps: GrantsApiDeps) {
  const { provider, db } = deps;
  const router = new Router();
  router.use(noStore, oauthApiErrors(deps.logger));
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

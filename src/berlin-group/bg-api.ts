import { Router } from '@koa/router';
import type { Middleware } from 'koa';
import { aisRouter } from './ais-router.ts';
import { bgErrors } from './bg-error.ts';
import type { BgRouterDeps } from './eidas-routes.ts';
import { pisRouter } from './pis-router.ts';
import { BG_PREFIX } from './routes.ts';

const answered = async () => undefined;

const under = (path: string) => path === BG_PREFIX || path.startsWith(`${BG_PREFIX}/`);

/**
 * Everything under /v1 is the Berlin Group's: its routes (AIS consents, payment initiation, their
 * authorisations), and for any other path or method the RESOURCE_UNKNOWN or SERVICE_INVALID of bgErrors;
 * nothing under /v1 reaches the provider.
 */
export function berlinGroupApi(deps: BgRouterDeps): Middleware & { router: Router } {
  // Both resources' routes in one router: one allowedMethods over both.
  const router = new Router();
  router.use(aisRouter(deps).routes(), pisRouter(deps).routes());
  const [errors, routes, methods] = [bgErrors(deps.logger), router.routes(), router.allowedMethods({ throw: true })];
  const api: Middleware = (ctx, next) =>
    under(ctx.path) ? errors(ctx, () => routes(ctx as never, () => methods(ctx as never, answered) as Promise<unknown>)) : next();
  // As a router's routes() does, it names its router, so the inventory finds what it mounts.
  return Object.assign(api, { router });
}

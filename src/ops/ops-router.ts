import { Router } from '@koa/router';
import { declaredRoutes } from '../http/declared-routes.ts';
import type { Metrics } from './metrics.ts';
import { checkReadiness, type ReadinessSources } from './readiness.ts';

/** Liveness, readiness and Prometheus metrics: on the public port, or alone on an internal one. */
export function opsRouter(deps: { metrics: Metrics; readiness: ReadinessSources }) {
  const router = new Router();
  const routes = declaredRoutes(router);
  routes.open('getLiveness', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  routes.open('getReadiness', async (ctx) => {
    const readiness = await checkReadiness(deps.readiness);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = readiness.ready ? 200 : 503;
    ctx.body = { status: readiness.ready ? 'ready' : 'not_ready', checks: readiness.checks };
  });
  routes.open('GET /metrics', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
  return router;
}

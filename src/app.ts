import Koa from 'koa';
import { Router } from '@koa/router';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import { type Dashboard, mountDashboard } from './dashboard/dashboard.ts';
import { bankApiRouter } from './bank/bank-router.ts';
import { consentApiRouter, openApiRouter } from './consents/api/consent-router.ts';
import type { CustomerAuthentication } from './customers/authentication.ts';
import type { Db } from './db/connect.ts';
import type { ClientCertificateReader } from './http/client-certificate.ts';
import type { Csrf } from './http/csrf.ts';
import { eventsApiRouter } from './events/api/events-router.ts';
import { grantsApiRouter } from './grants/grants-router.ts';
import { errorPage } from './http/error-page.ts';
import { securityHeaders } from './http/security-headers.ts';
import type { Views } from './http/views.ts';
import { interactionRouter } from './interactions/router.ts';
import type { Metrics } from './ops/metrics.ts';
import { rateLimit, type RateLimits } from './ops/rate-limit.ts';
import { logProviderErrors, requestLog } from './ops/request-log.ts';
import { countIssuedTokens, requestMetrics } from './ops/request-metrics.ts';

export interface AppDeps {
  provider: Provider;
  db: Db;
  views: Views;
  logger: Logger;
  presentedCertificate: ClientCertificateReader;
  /** True when a trusted proxy terminates TLS and sets X-Forwarded-*. */
  behindProxy: boolean;
  /** The customer consent dashboard under /dashboard. */
  dashboard: Dashboard;
  authentication: CustomerAuthentication;
  csrf: Csrf;
  idleTimeoutSeconds: number;
  metrics: Metrics;
  /** Health and metrics routes, when they share the public port. */
  ops: Router | undefined;
  rateLimits: RateLimits;
  /** The longest an aggregated poll waits for events (EVENT_LONG_POLL). */
  eventLongPollSeconds: number;
}

function assetRouter(views: Views) {
  const router = new Router();
  router.get('/assets/assent.css', (ctx) => {
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = views.stylesheet;
  });
  return router;
}

/** Security headers, Assent's own pages, then oidc-provider for everything else. */
export function createApp(deps: AppDeps): Koa {
  const { provider, views, logger } = deps;
  const app = new Koa({ proxy: deps.behindProxy });
  provider.proxy = deps.behindProxy;

  logProviderErrors(provider, logger);
  countIssuedTokens(provider, deps.metrics);

  const interactions = interactionRouter(deps);
  const assets = assetRouter(views);
  const consentApi = consentApiRouter(deps);
  const openApi = openApiRouter(provider.issuer);
  const bankApi = bankApiRouter(deps);
  const eventsApi = eventsApiRouter({ ...deps, longPollSeconds: deps.eventLongPollSeconds });
  const grantsApi = grantsApiRouter(deps);
  const providerCallback = provider.callback();

  app.use(securityHeaders);
  app.use(requestLog(logger));
  app.use(requestMetrics(deps.metrics));
  if (deps.ops) app.use(deps.ops.routes());
  app.use(rateLimit({ db: deps.db, limits: deps.rateLimits, views, metrics: deps.metrics }));
  app.use(errorPage(views, logger));
  app.use(assets.routes());
  app.use(consentApi.routes());
  app.use(openApi.routes());
  app.use(bankApi.routes());
  app.use(eventsApi.routes());
  app.use(grantsApi.routes());
  app.use(interactions.routes());
  app.use(interactions.allowedMethods());
  const dashboard = mountDashboard(deps.dashboard, views, deps.csrf);
  app.use(dashboard.routes());
  app.use(dashboard.allowedMethods());
  app.use((ctx) => {
    // oidc-provider answers the rest itself and ends the response.
    ctx.respond = false;
    return providerCallback(ctx.req, ctx.res);
  });
  return app;
}

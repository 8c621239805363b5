import Koa from 'koa';
import { Router } from '@koa/router';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import { waitingRequestCount } from './ciba/decoupled-view.ts';
import { deviceRouter } from './ciba/device-router.ts';
import { type Dashboard, mountDashboard } from './dashboard/dashboard.ts';
import { endDashboardSessionOnSignOut } from './dashboard/sign-out-everywhere.ts';
import { bankApiRouter } from './bank/bank-router.ts';
import { berlinGroupApi } from './berlin-group/bg-api.ts';
import { bankCalendar } from './berlin-group/bg-bank-time.ts';
import type { DecoupledDevice } from './consents/consent-authorisation.ts';
import { bgEdgeRefusal } from './berlin-group/bg-error.ts';
import { BG_PREFIX } from './berlin-group/routes.ts';
import { consentApiRouter } from './consent-api/consent-router.ts';
import type { AccountDirectory } from './customers/account-directory.ts';
import type { CustomerAuthentication } from './customers/authentication.ts';
import type { Db } from './db/connect.ts';
import type { ClientCertificateReader } from './http/client-certificate.ts';
import type { Csrf } from './http/csrf.ts';
import { refuseBlockedCertificates } from './store/blocked-credentials.ts';
import { eventsApiRouter } from './events/api/events-router.ts';
import { grantsApiRouter } from './grants/grants-router.ts';
import { errorPage } from './http/error-page.ts';
import { declaredRoutes } from './http/declared-routes.ts';
import { type ForwardedTrust, forwardedHeaders } from './http/forwarded-headers.ts';
import { type EdgeRefusal, refuseHostileInput } from './http/hostile-input.ts';
import { obEdgeRefusal, obEdgeRefusalIn } from './ob-api/ob-error.ts';
import { obV4Envelope } from './uk-ob-v4/ob-v4-errors.ts';
import type { OpenApiDocument } from './openapi/document.ts';
import { openApiRouter } from './openapi/openapi-router.ts';
import { BANK_PREFIX, ENGINE_PATHS, OB_API_PREFIX, OB_V4_API_PREFIX } from './protocol/routes.ts';
import { findRoute } from './protocol/route-match.ts';
import { securityHeaders } from './http/security-headers.ts';
import type { Views } from './http/views.ts';
import { interactionRouter } from './interactions/router.ts';
import { nameTppAfterSignOut } from './oidc/customer-pages.ts';
import type { BatchedFind } from './store/batched-find.ts';
import type { Metrics } from './ops/metrics.ts';
import { rateLimit, type RateLimits, throttleClientRequests } from './ops/rate-limit.ts';
import { logProviderErrors, requestLog } from './ops/request-log.ts';
import { countIntrospections, countIssuedTokens, requestMetrics } from './ops/request-metrics.ts';
import type { EidasTppMiddleware } from './tpp/eidas-middleware.ts';

export interface AppDeps {
  provider: Provider;
  /** The provider adapter's finds by id, which the pages' activity statement reads the interaction with. */
  find: BatchedFind;
  db: Db;
  views: Views;
  logger: Logger;
  presentedCertificate: ClientCertificateReader;
  /** Berlin Group: the TPP a request's QWAC names, on ctx.state (tpp/eidas-middleware.ts), for its routes to mount. */
  eidasTpp: EidasTppMiddleware;
  /** Berlin Group's DECOUPLED approach: the customer's authentication device (ciba/decoupled-authorisation.ts). */
  decoupledDevice: DecoupledDevice;
  /** Set when a trusted proxy terminates TLS: whose X-Forwarded-* headers are believed. */
  forwardedTrust: ForwardedTrust | undefined;
  /** The customer consent dashboard under /dashboard. */
  dashboard: Dashboard;
  authentication: CustomerAuthentication;
  /** Who owns which account: the bank's account directory, passed in from server.ts. */
  accounts: AccountDirectory;
  csrf: Csrf;
  idleTimeoutSeconds: number;
  metrics: Metrics;
  /** Health and metrics routes, when they share the public port. */
  ops: Router | undefined;
  rateLimits: RateLimits;
  /** The longest an aggregated poll waits for events (EVENT_LONG_POLL). */
  eventLongPollSeconds: number;
  /** The OpenAPI document of every JSON API, served at /openapi.json. */
  openApi: OpenApiDocument;
  /** The bank's IANA time zone (BANK_TIME_ZONE), whose days a consent's frequencyPerDay counts. */
  bankTimeZone: string;
  /** Puts the interaction and consent ids on the request's span, when tracing is on (ops/tracing.ts). */
  requestTracing: Koa.Middleware | undefined;
}

/** The pages' stylesheets, open to anyone. */
export function assetRouter(views: Views) {
  const router = new Router();
  const routes = declaredRoutes(router);
  routes.open('GET /assets/assent.css', (ctx) => {
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = views.stylesheet;
  });
  // The bank's colours (BANK_COLOUR_*): a stylesheet of its own, since the CSP allows no inline style.
  routes.open('GET /assets/brand.css', (ctx) => {
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = views.brandStylesheet;
  });
  return router;
}

/**
 * Hostile input is refused at the edge (http/hostile-input.ts) in the shape of the surface it was
 * sent to: the UK OB envelope on the consent and bank APIs (v4.0's under its prefix), the Berlin Group's tppMessages under /v1, a page in the customer's browser, RFC 7591
 * on registration, OAuth JSON on every other endpoint (the provider's).
 */
const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

const obV4EdgeRefusal = obEdgeRefusalIn(obV4Envelope);

function edgeRefusal(views: Views): EdgeRefusal {
  return (ctx, status, description) => {
    if (under(ctx.path, OB_API_PREFIX) || under(ctx.path, BANK_PREFIX)) return obEdgeRefusal(ctx, status, description);
    if (under(ctx.path, OB_V4_API_PREFIX)) return obV4EdgeRefusal(ctx, status, description);
    if (under(ctx.path, BG_PREFIX)) return bgEdgeRefusal(ctx, status, description);
    // As the error handler decides (http/error-page.ts): a customer's route, or a path the route table
    // does not know, gets the page; a client's route gets OAuth JSON.
    const route = findRoute(ctx.method, ctx.path);
    if (route === undefined || route.caller === 'customer') {
      views.render(ctx, 'error', { message: views.wording(ctx).t('error.badInput'), code: 'invalid_request' }, status);
      return;
    }
    ctx.status = status;
    ctx.body = {
      error: ctx.path === ENGINE_PATHS.registration ? 'invalid_client_metadata' : 'invalid_request',
      error_description: description,
    };
  };
}

/** Security headers, Assent's own pages, then oidc-provider for everything else. */
export function createApp(deps: AppDeps): Koa {
  const { provider, views, logger } = deps;
  const behindProxy = deps.forwardedTrust !== undefined;
  const app = new Koa({ proxy: behindProxy });
  provider.proxy = behindProxy;

  logProviderErrors(provider, logger);
  countIssuedTokens(provider, deps.metrics);
  countIntrospections(provider, deps.metrics);
  provider.use(throttleClientRequests({ db: deps.db }, 'engine'));
  provider.use(endDashboardSessionOnSignOut(deps.db));
  provider.use(nameTppAfterSignOut);

  const interactions = interactionRouter(deps);
  const assets = assetRouter(views);
  const consentApi = consentApiRouter(deps);
  const openApi = openApiRouter(deps.openApi);
  const bankApi = bankApiRouter(deps);
  const eventsApi = eventsApiRouter({ ...deps, longPollSeconds: deps.eventLongPollSeconds });
  const grantsApi = grantsApiRouter(deps);
  const berlinGroup = berlinGroupApi({
    db: deps.db,
    logger,
    issuer: provider.issuer,
    eidasTpp: deps.eidasTpp,
    decoupled: deps.decoupledDevice,
    calendar: bankCalendar(deps.bankTimeZone),
  });
  const providerCallback = provider.callback();

  // First: nothing may read a forwarded header before it is reduced to what a trusted proxy said.
  if (deps.forwardedTrust) app.use(forwardedHeaders(deps.forwardedTrust));
  app.use(securityHeaders);
  if (deps.requestTracing) app.use(deps.requestTracing);
  app.use(requestLog(logger));
  app.use(requestMetrics(deps.metrics));
  if (deps.ops) app.use(deps.ops.routes());
  // Errors of the rate limits too go through the error shapes (a lost database is 503, never text/plain).
  app.use(errorPage(views, logger));
  app.use(rateLimit({ db: deps.db, limits: deps.rateLimits, views, metrics: deps.metrics }));
  app.use(refuseBlockedCertificates(deps));
  app.use(refuseHostileInput(edgeRefusal(views)));
  app.use(throttleClientRequests({ db: deps.db }, 'assent'));
  app.use(assets.routes());
  app.use(consentApi.routes());
  app.use(openApi.routes());
  app.use(bankApi.routes());
  app.use(eventsApi.routes());
  app.use(grantsApi.routes());
  // Everything under /v1 (Berlin Group NextGenPSD2) answers there, never reaching the provider.
  app.use(berlinGroup);
  app.use(interactions.routes());
  app.use(interactions.allowedMethods());
  // Decoupled (CIBA) requests on the customer's dashboard and for the bank's app, under /dashboard.
  const device = deviceRouter({ ...deps, sessions: deps.dashboard.sessions, customerOf: deps.dashboard.customerOf });
  app.use(device.routes());
  const dashboard = mountDashboard(deps.dashboard, {
    views,
    csrf: deps.csrf,
    provider,
    decoupledWaiting: (customerId) => waitingRequestCount(deps.db, customerId),
  });
  app.use(dashboard.routes());
  app.use(dashboard.allowedMethods());
  app.use((ctx) => {
    // oidc-provider answers the rest itself and ends the response.
    ctx.respond = false;
    return providerCallback(ctx.req, ctx.res);
  });
  return app;
}

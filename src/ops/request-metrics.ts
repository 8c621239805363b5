import type { Context, Middleware } from 'koa';
import type { Provider } from 'oidc-provider';
import { routeStandard } from '../protocol/route-match.ts';
import { INTERACTION_PREFIX } from '../protocol/routes.ts';
import type { Metrics } from './metrics.ts';
import { routeLabel } from './route-label.ts';

interface RouterLayer {
  path: string;
  methods: string[];
}

/**
 * The route an Assent router (@koa/router) matched for this method, even when a middleware in front of
 * it answered (a 401 from the token check); oidc-provider's routes are recognised by path instead.
 */
function matchedRoute(ctx: Context): string | undefined {
  const layers = (ctx as Context & { matched?: RouterLayer[] }).matched ?? [];
  return layers.findLast((layer) => layer.methods.includes(ctx.method))?.path;
}

const LOGIN_ROUTE = `${INTERACTION_PREFIX}/login`;
const LOGIN_REFUSALS: Record<number, string> = { 401: 'invalid_credentials', 429: 'rate_limited' };

/**
 * Counts and times every request when its response closes (finished or aborted), oidc-provider's
 * included: they end the response themselves, after this middleware's `next()` returned. Labelled by
 * route and by the standard the route speaks (`uk_ob_v3`, `uk_ob_v4`, `berlin_group`, `none`).
 */
export function requestMetrics(metrics: Metrics): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    ctx.res.once('close', () => {
      const route = matchedRoute(ctx) ?? routeLabel(ctx.path);
      // The route's standard tells v3.1 from v4.0 (and the Berlin Group) without a regex over routes.
      const standard = routeStandard(route);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.requests.inc({ method: ctx.method, route, standard, status: String(ctx.res.statusCode) });
      metrics.requestSeconds.observe({ method: ctx.method, route, standard }, seconds);
      const refusal = route === LOGIN_ROUTE && ctx.method === 'POST' ? LOGIN_REFUSALS[ctx.res.statusCode] : undefined;
      if (refusal) metrics.loginFailures.inc({ reason: refusal });
    });
    await next();
  };
}

/** Tokens issued, by grant type, from the provider's own success event. */
export function countIssuedTokens(provider: Provider, metrics: Metrics) {
  provider.on('grant.success', (ctx) => {
    metrics.tokensIssued.inc({ grant_type: String(ctx.oidc.params?.grant_type ?? 'unknown') });
  });
}

/** Introspections by result: `active`, `inactive`, `signed` (a JWT response, its content unread here) or `refused` (an error). */
export function countIntrospections(provider: Provider, metrics: Metrics) {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route !== 'introspection') return;
    const body: unknown = ctx.body;
    const result =
      ctx.status !== 200
        ? 'refused'
        : typeof body === 'object' && body !== null
          ? (body as { active?: unknown }).active === true
            ? 'active'
            : 'inactive'
          : 'signed';
    metrics.introspections.inc({ result });
  });
}

import type { Context, Middleware } from 'koa';
import type { Db } from '../db/connect.ts';
import type { Views } from '../http/views.ts';
import type { Metrics } from './metrics.ts';
import { countHit } from './rate-limit-repository.ts';

import { ClientThrottled } from '../protocol/client-throttled.ts';
import { findRoute } from '../protocol/route-match.ts';
import type { RateLimitPolicy } from '../protocol/routes.ts';

export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

/** Per policy, its limit per client address, or undefined when switched off. */
export type RateLimits = Record<RateLimitPolicy, RateLimit | undefined>;

/** The policy the route table names for this request (src/protocol/routes.ts). */
function policyOf(ctx: Context): RateLimitPolicy | undefined {
  return findRoute(ctx.method, ctx.path)?.rateLimit;
}

/**
 * Throttles the endpoints that guess or mint credentials, per client address (ctx.ip honours
 * X-Forwarded-For only behind a trusted proxy), with counters in Postgres so the limit holds across
 * every process. Over the limit: 429 with Retry-After, as OAuth JSON or, on customer pages, a page.
 */
export function rateLimit(deps: { db: Db; limits: RateLimits; views: Views; metrics: Metrics }): Middleware {
  return async (ctx, next) => {
    const policy = policyOf(ctx);
    const limit = policy && deps.limits[policy];
    if (!policy || !limit) return next();
    const { hits, windowEndsAt } = await countHit(deps.db, `${policy}:${ctx.ip}`, limit.windowSeconds);
    if (hits <= limit.limit) return next();

    deps.metrics.rateLimited.inc({ policy });
    const retryAfter = Math.max(1, Math.ceil((windowEndsAt.getTime() - Date.now()) / 1000));
    ctx.set('Retry-After', String(retryAfter));
    const description = `too many requests, retry in ${retryAfter} seconds`;
    if (policy === 'login' || policy === 'otp') {
      deps.views.render(ctx, 'error', { message: deps.views.wording(ctx).t('error.tooMany', { seconds: retryAfter }), code: 'too_many_requests' }, 429);
      return;
    }
    ctx.status = 429;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: 'temporarily_unavailable', error_description: description };
  };
}

/**
 * The operator's throttle on one TPP (`tpp:throttle`, table client_rate_limit), below every default:
 * counted on each load of the client, which every client authentication and every check of its tokens
 * does, across every process. Throws ClientThrottled over the limit; clients without one pass free.
 */
export async function admitClient(db: Db, clientId: string): Promise<void> {
  const override = await db.selectFrom('client_rate_limit').select(['limit', 'window_seconds']).where('client_id', '=', clientId).executeTakeFirst();
  if (!override) return;
  const { hits, windowEndsAt } = await countHit(db, `client:${clientId}`, override.window_seconds);
  if (hits > override.limit) throw new ClientThrottled(Math.max(1, Math.ceil((windowEndsAt.getTime() - Date.now()) / 1000)));
}

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context, Middleware } from 'koa';
import type { Db } from '../db/connect.ts';
import type { Views } from '../http/views.ts';
import type { Metrics } from './metrics.ts';
import { countHit, returnHit } from './rate-limit-repository.ts';

import { ClientThrottled } from '../protocol/client-throttled.ts';
import { findRoute } from '../protocol/route-match.ts';
import type { Caller, RateLimitPolicy } from '../protocol/routes.ts';

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

/** The per-address hit a running request was admitted with, for the engine's nonce challenge to give back. */
const addressHits = new AsyncLocalStorage<{ key: string; windowEndsAt: Date }>();

/**
 * Throttles the endpoints that guess or mint credentials, per client address (ctx.ip honours
 * X-Forwarded-For only behind a trusted proxy), with counters in Postgres so the limit holds across
 * every process. Over the limit: 429 with Retry-After, as OAuth JSON or, on customer pages, a page.
 * A DPoP nonce challenge gives its hit back (see throttleClientRequests, which sees the engine's answer).
 */
export function rateLimit(deps: { db: Db; limits: RateLimits; views: Views; metrics: Metrics }): Middleware {
  return async (ctx, next) => {
    const policy = policyOf(ctx);
    const limit = policy && deps.limits[policy];
    if (!policy || !limit) return next();
    const key = `${policy}:${ctx.ip}`;
    const { hits, windowEndsAt } = await countHit(deps.db, key, limit.windowSeconds);
    if (hits <= limit.limit) return addressHits.run({ key, windowEndsAt }, next);

    deps.metrics.rateLimited.inc({ policy });
    const retryAfter = Math.max(1, Math.ceil((windowEndsAt.getTime() - Date.now()) / 1000));
    ctx.set('Retry-After', String(retryAfter));
    const description = `too many requests, retry in ${retryAfter} seconds`;
    if (policy === 'login' || policy === 'otp') {
      deps.views.render(
        ctx,
        'error',
        { message: deps.views.wording(ctx).t('error.tooMany', { seconds: retryAfter }), code: 'too_many_requests' },
        429,
      );
      return;
    }
    ctx.status = 429;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { error: 'temporarily_unavailable', error_description: description };
  };
}

/** The operator's throttle on one client (`tpp:throttle`, table client_rate_limit): at most `limit` requests per window. */
export interface ClientThrottle {
  limit: number;
  windowSeconds: number;
}

/** A client's request while it runs: the client it was admitted as (once), and the hit counted for it. */
interface ClientRequest {
  clientId?: string;
  hit?: { key: string; windowEndsAt: Date; hits: number; throttle: ClientThrottle };
}

const clientRequests = new AsyncLocalStorage<ClientRequest>();

/** Who calls a route whose first client load is the client the request authenticates as. */
const CLIENT_CALLERS: ReadonlySet<Caller> = new Set(['client', 'tpp', 'resource_server']);

/**
 * Scopes the operator's throttle to one count per request, for the client the request authenticates
 * as: on the routes clients call (the route table's caller), the first client a request loads is the
 * one authenticating (client authentication, or the client of the token presented to Assent's APIs);
 * later loads (a resource server's introspection loads the TPP behind the token; customer pages load
 * TPPs to name them) neither count nor refuse. The engine has no hook between authenticating a client
 * and the endpoint's work, so the hit is counted at that load and given back, before the answer leaves,
 * when the request ends 401 (the client did not authenticate): a caller cannot use up a TPP's
 * allowance by naming its client_id. A DPoP nonce challenge gives it back too (isNonceChallenge), and the
 * request's per-address hit (rateLimit) with it: the engine writes its answer itself, so only here is it seen.
 * Mounted twice, because the answer leaves from where it is made: in front of Assent's routers for
 * theirs, and inside the provider (`provider.use`) for the engine's.
 */
export function throttleClientRequests(deps: { db: Db }, servedBy: 'engine' | 'assent'): Middleware {
  return async (ctx, next) => {
    const route = findRoute(ctx.method, ctx.path);
    if (!route || route.servedBy !== servedBy || !CLIENT_CALLERS.has(route.caller)) return next();
    const request: ClientRequest = {};
    let status: unknown;
    try {
      await clientRequests.run(request, next);
      status = ctx.status;
    } catch (error) {
      status = (error as { status?: unknown }).status;
      throw error;
    } finally {
      // A lost give-back leaves one hit too many until the window ends; the request's own answer stands.
      const challenged = isNonceChallenge(status, ctx.body);
      if (request.hit && (status === 401 || challenged)) await giveBack(deps.db, request.hit);
      const addressHit = addressHits.getStore();
      if (challenged && addressHit) await giveBack(deps.db, addressHit);
    }
  };
}

const giveBack = (db: Db, hit: { key: string; windowEndsAt: Date }) => returnHit(db, hit.key, hit.windowEndsAt).catch(() => undefined);

/**
 * The engine's answer to a DPoP proof without a current server nonce (RFC 9449 section 8: 400
 * use_dpop_nonce at /request and /token; Assent's own APIs answer 401): the client did nothing yet and
 * repeats the request with the nonce, so it gives its hit back too.
 */
function isNonceChallenge(status: unknown, body: unknown): boolean {
  return status === 400 && typeof body === 'object' && body !== null && (body as { error?: unknown }).error === 'use_dpop_nonce';
}

/**
 * The operator's throttle, below every default: counted once per client request for its
 * authenticating client (see throttleClientRequests), across every process. Throws ClientThrottled over
 * the limit; clients without a throttle pass free, and outside a client's request nothing is counted.
 */
export async function admitRequestClient(db: Db, clientId: string, throttle: ClientThrottle | null): Promise<void> {
  const request = clientRequests.getStore();
  if (!request || request.clientId !== undefined) return;
  request.clientId = clientId;
  if (!throttle) return;
  const key = `client:${clientId}`;
  const { hits, windowEndsAt } = await countHit(db, key, throttle.windowSeconds);
  request.hit = { key, windowEndsAt, hits, throttle };
  if (hits > throttle.limit) throw new ClientThrottled(Math.max(1, Math.ceil((windowEndsAt.getTime() - Date.now()) / 1000)));
}

/**
 * The operator's throttle as it stands for the running request's client, once the request was counted
 * against it: undefined when the client has none, or the request has not (yet) authenticated a client.
 */
export function admittedQuota(): { limit: number; windowSeconds: number; remaining: number; resetSeconds: number } | undefined {
  const hit = clientRequests.getStore()?.hit;
  if (!hit) return undefined;
  return {
    limit: hit.throttle.limit,
    windowSeconds: hit.throttle.windowSeconds,
    remaining: Math.max(0, hit.throttle.limit - hit.hits),
    resetSeconds: Math.max(0, Math.ceil((hit.windowEndsAt.getTime() - Date.now()) / 1000)),
  };
}

import { Router } from '@koa/router';
import type { Context, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import { fapiInteractionId } from '../../consents/api/consent-api-steps.ts';
import type { Db } from '../../db/connect.ts';
import type { ClientCertificateReader } from '../../http/client-certificate.ts';
import { verifyObApiToken } from '../../ob-api/client-token.ts';
import { ObError, obErrors } from '../../ob-api/ob-error.ts';
import { readJson } from '../../ob-api/request-body.ts';
import { EVENT_API_PATHS, OB_API_PREFIX } from '../../protocol/routes.ts';
import { CONSENT_SCOPES } from '../../protocol/scopes.ts';
import { pollEvents } from '../polling-service.ts';
import {
  createSubscription,
  deleteSubscription,
  type EventSubscription,
  getSubscription,
  replaceSubscription,
  SubscriptionNotFound,
} from '../subscription-service.ts';
import { parseCallbackUrl, parseEventSubscription, parsePollRequest } from './event-requests.ts';

const { events: EVENTS_PATH, callbackUrls: CALLBACK_URLS_PATH, eventSubscriptions: EVENT_SUBSCRIPTIONS_PATH } = EVENT_API_PATHS;

export interface EventsApiDeps {
  provider: Provider;
  db: Db;
  presentedCertificate: ClientCertificateReader;
  logger: Logger;
  /** The longest a poll with returnImmediately=false waits. */
  longPollSeconds: number;
}

/** A TPP's sender-constrained client_credentials token with any consent scope (UK OB: accounts, payments or fundsconfirmations). */
function requireTppToken(provider: Provider, presentedCertificate: ClientCertificateReader) {
  return async function checkTppToken(ctx: Context, next: Next) {
    const token = await verifyObApiToken(provider, presentedCertificate, ctx);
    if (token.clientKind !== 'tpp' || !CONSENT_SCOPES.some((scope) => token.scopes.has(scope))) {
      throw ObError.of(403, 'UK.OBIE.Header.Invalid', `the access token needs one of the scopes ${CONSENT_SCOPES.join(', ')}`, 'Authorization');
    }
    (ctx.state as { clientId: string }).clientId = token.clientId;
    await next();
  };
}

const clientOf = (ctx: Context) => (ctx.state as { clientId: string }).clientId;


const callbackUrlData = (subscription: EventSubscription) => ({ CallbackUrlId: subscription.id, Url: subscription.callbackUrl!, Version: subscription.version });

const subscriptionData = (subscription: EventSubscription) => ({
  EventSubscriptionId: subscription.id,
  ...(subscription.callbackUrl && { CallbackUrl: subscription.callbackUrl }),
  Version: subscription.version,
  ...(subscription.eventTypes && { EventTypes: subscription.eventTypes }),
});

/**
 * Aggregated polling (POST /events), and the two resources through which a TPP manages where its
 * events are pushed (callback-urls, and the later event-subscriptions). One subscription per TPP;
 * another TPP's subscription answers as one that does not exist.
 */
export function eventsApiRouter(deps: EventsApiDeps) {
  const { provider, db } = deps;
  const router = new Router({ prefix: OB_API_PREFIX });
  const tppToken = requireTppToken(provider, deps.presentedCertificate);
  router.use([EVENTS_PATH, CALLBACK_URLS_PATH, EVENT_SUBSCRIPTIONS_PATH], obErrors(deps.logger), fapiInteractionId);
  const self = (path: string, id?: string) => ({ Self: `${provider.issuer}${OB_API_PREFIX}${path}${id ? `/${id}` : ''}` });

  router.post(EVENTS_PATH, tppToken, async (ctx) => {
    const request = parsePollRequest(await readJson(ctx));
    ctx.body = await pollEvents({ db, provider, longPollMs: deps.longPollSeconds * 1000 }, clientOf(ctx), request);
  });

  // callback-urls (UK OB v3.1): the subscription as a URL and nothing more.
  const withUrl = async (ctx: Context) => {
    const subscription = await getSubscription(db, clientOf(ctx));
    return subscription?.callbackUrl ? subscription : undefined;
  };
  router.post(CALLBACK_URLS_PATH, tppToken, async (ctx) => {
    const created = await createSubscription(db, clientOf(ctx), parseCallbackUrl(await readJson(ctx)));
    ctx.status = 201;
    ctx.body = { Data: callbackUrlData(created), Links: self(CALLBACK_URLS_PATH, created.id), Meta: {} };
  });
  router.get(CALLBACK_URLS_PATH, tppToken, async (ctx) => {
    const subscription = await withUrl(ctx);
    ctx.body = { Data: { CallbackUrl: subscription ? [callbackUrlData(subscription)] : [] }, Links: self(CALLBACK_URLS_PATH), Meta: {} };
  });
  router.put(`${CALLBACK_URLS_PATH}/:id`, tppToken, async (ctx) => {
    const id = ctx.params.id ?? '';
    if ((await withUrl(ctx))?.id !== id) throw new SubscriptionNotFound('callback URL');
    const updated = await replaceSubscription(db, clientOf(ctx), id, parseCallbackUrl(await readJson(ctx), id));
    ctx.body = { Data: callbackUrlData(updated), Links: self(CALLBACK_URLS_PATH, id), Meta: {} };
  });
  router.delete(`${CALLBACK_URLS_PATH}/:id`, tppToken, async (ctx) => {
    const id = ctx.params.id ?? '';
    if ((await withUrl(ctx))?.id !== id) throw new SubscriptionNotFound('callback URL');
    await deleteSubscription(db, clientOf(ctx), id);
    ctx.status = 204;
  });

  // event-subscriptions (UK OB v3.1.2+): a callback URL (optional: polling only) and event types.
  router.post(EVENT_SUBSCRIPTIONS_PATH, tppToken, async (ctx) => {
    const created = await createSubscription(db, clientOf(ctx), parseEventSubscription(await readJson(ctx)));
    ctx.status = 201;
    ctx.body = { Data: subscriptionData(created), Links: self(EVENT_SUBSCRIPTIONS_PATH, created.id), Meta: {} };
  });
  router.get(EVENT_SUBSCRIPTIONS_PATH, tppToken, async (ctx) => {
    const subscription = await getSubscription(db, clientOf(ctx));
    ctx.body = { Data: { EventSubscription: subscription ? [subscriptionData(subscription)] : [] }, Links: self(EVENT_SUBSCRIPTIONS_PATH), Meta: {} };
  });
  router.put(`${EVENT_SUBSCRIPTIONS_PATH}/:id`, tppToken, async (ctx) => {
    const id = ctx.params.id ?? '';
    const updated = await replaceSubscription(db, clientOf(ctx), id, parseEventSubscription(await readJson(ctx), id));
    ctx.body = { Data: subscriptionData(updated), Links: self(EVENT_SUBSCRIPTIONS_PATH, id), Meta: {} };
  });
  router.delete(`${EVENT_SUBSCRIPTIONS_PATH}/:id`, tppToken, async (ctx) => {
    await deleteSubscription(db, clientOf(ctx), ctx.params.id ?? '');
    ctx.status = 204;
  });
  return router;
}

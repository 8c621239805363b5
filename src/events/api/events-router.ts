import { Router } from '@koa/router';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import { fapiInteractionId } from '../../consent-api/consent-api-steps.ts';
import type { Db } from '../../db/connect.ts';
import type { ClientCertificateReader } from '../../http/client-certificate.ts';
import { declaredRoutes } from '../../http/declared-routes.ts';
import { obErrors } from '../../ob-api/ob-error.ts';
import { readJson } from '../../ob-api/request-body.ts';
import { EVENT_API_PATHS, OB_API_PREFIX } from '../../protocol/routes.ts';
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

const { callbackUrls: CALLBACK_URLS_PATH, eventSubscriptions: EVENT_SUBSCRIPTIONS_PATH } = EVENT_API_PATHS;

export interface EventsApiDeps {
  provider: Provider;
  db: Db;
  presentedCertificate: ClientCertificateReader;
  logger: Logger;
  /** The longest a poll with returnImmediately=false waits. */
  longPollSeconds: number;
}

const callbackUrlData = (subscription: EventSubscription) => ({
  CallbackUrlId: subscription.id,
  Url: subscription.callbackUrl!,
  Version: subscription.version,
});

const subscriptionData = (subscription: EventSubscription) => ({
  EventSubscriptionId: subscription.id,
  ...(subscription.callbackUrl && { CallbackUrl: subscription.callbackUrl }),
  Version: subscription.version,
  ...(subscription.eventTypes && { EventTypes: subscription.eventTypes }),
});

/**
 * Aggregated polling (POST /events), and the two resources through which a TPP manages where its
 * events are pushed (callback-urls, and the later event-subscriptions). One subscription per TPP;
 * another TPP's subscription answers as one that does not exist. Mounted through the route table,
 * whose rows ask for a TPP's token with any consent scope.
 */
export function eventsApiRouter(deps: EventsApiDeps) {
  const { provider, db } = deps;
  const router = new Router();
  router.use(obErrors(deps.logger), fapiInteractionId);
  const routes = declaredRoutes(router, deps);
  const self = (path: string, id?: string) => ({ Self: `${provider.issuer}${OB_API_PREFIX}${path}${id ? `/${id}` : ''}` });

  routes.client('CreateEvents', async (ctx) => {
    const request = parsePollRequest(await readJson(ctx));
    ctx.body = await pollEvents({ db, provider, longPollMs: deps.longPollSeconds * 1000 }, ctx.state.caller.clientId, request);
  });

  // callback-urls (UK OB v3.1): the subscription as a URL and nothing more.
  const withUrl = async (clientId: string) => {
    const subscription = await getSubscription(db, clientId);
    return subscription?.callbackUrl ? subscription : undefined;
  };
  routes.client('CreateCallbackUrls', async (ctx) => {
    const created = await createSubscription(db, ctx.state.caller.clientId, parseCallbackUrl(await readJson(ctx)));
    ctx.status = 201;
    ctx.body = { Data: callbackUrlData(created), Links: self(CALLBACK_URLS_PATH, created.id), Meta: {} };
  });
  routes.client('GetCallbackUrls', async (ctx) => {
    const subscription = await withUrl(ctx.state.caller.clientId);
    ctx.body = { Data: { CallbackUrl: subscription ? [callbackUrlData(subscription)] : [] }, Links: self(CALLBACK_URLS_PATH), Meta: {} };
  });
  routes.client('ChangeCallbackUrlsCallbackUrlId', async (ctx) => {
    const { clientId } = ctx.state.caller;
    const id = ctx.params.id ?? '';
    if ((await withUrl(clientId))?.id !== id) throw new SubscriptionNotFound('callback URL');
    const updated = await replaceSubscription(db, clientId, id, parseCallbackUrl(await readJson(ctx), id));
    ctx.body = { Data: callbackUrlData(updated), Links: self(CALLBACK_URLS_PATH, id), Meta: {} };
  });
  routes.client('DeleteCallbackUrlsCallbackUrlId', async (ctx) => {
    const { clientId } = ctx.state.caller;
    const id = ctx.params.id ?? '';
    if ((await withUrl(clientId))?.id !== id) throw new SubscriptionNotFound('callback URL');
    await deleteSubscription(db, clientId, id);
    ctx.status = 204;
  });

  // event-subscriptions (UK OB v3.1.2+): a callback URL (optional: polling only) and event types.
  routes.client('CreateEventSubscriptions', async (ctx) => {
    const created = await createSubscription(db, ctx.state.caller.clientId, parseEventSubscription(await readJson(ctx)));
    ctx.status = 201;
    ctx.body = { Data: subscriptionData(created), Links: self(EVENT_SUBSCRIPTIONS_PATH, created.id), Meta: {} };
  });
  routes.client('GetEventSubscriptions', async (ctx) => {
    const subscription = await getSubscription(db, ctx.state.caller.clientId);
    ctx.body = {
      Data: { EventSubscription: subscription ? [subscriptionData(subscription)] : [] },
      Links: self(EVENT_SUBSCRIPTIONS_PATH),
      Meta: {},
    };
  });
  routes.client('ChangeEventSubscriptionsEventSubscriptionId', async (ctx) => {
    const id = ctx.params.id ?? '';
    const updated = await replaceSubscription(db, ctx.state.caller.clientId, id, parseEventSubscription(await readJson(ctx), id));
    ctx.body = { Data: subscriptionData(updated), Links: self(EVENT_SUBSCRIPTIONS_PATH, id), Meta: {} };
  });
  routes.client('DeleteEventSubscriptionsEventSubscriptionId', async (ctx) => {
    await deleteSubscription(db, ctx.state.caller.clientId, ctx.params.id ?? '');
    ctx.status = 204;
  });
  return router;
}

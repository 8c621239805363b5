import { z } from 'zod';
import { callbackUrlBody, callbackUrlUpdateBody, pollBody, subscriptionBody } from '../events/api/event-requests.ts';
import { type ApiPart, jsonBody, jsonSchema } from './api-part.ts';
import { INTERACTION_ID, obError, RESPONSE_HEADERS } from './consent-api.ts';

/** UK OB v3.1 Event Notification API: aggregated polling (RFC 8936) and the push subscriptions. */

const links = z.object({ Self: z.url() });
const callbackUrl = z.object({ CallbackUrlId: z.string(), Url: z.url(), Version: z.string() });
const subscription = z.object({
  EventSubscriptionId: z.string(),
  CallbackUrl: z.url().optional(),
  Version: z.string(),
  EventTypes: z.array(z.string()).optional(),
});
const pollResponse = z.object({
  sets: z
    .record(z.string(), z.string())
    .describe(
      'jti -> the signed Security Event Token (RFC 8417), verifiable against the JWKS; its consent_seq claim numbers the events of its consent (1, 2, 3...), the order to apply them in',
    ),
  moreAvailable: z.boolean(),
});

const ok = (description: string, schema: string) => ({ description, headers: RESPONSE_HEADERS, content: jsonBody(schema) });
const FAILURES = {
  '400': obError('invalid request; UK.OBIE.* codes in Errors'),
  '401': obError('missing, inactive or wrongly bound access token'),
  '403': obError('not a TPP token with a consent scope'),
};
const ID = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const gone = { '404': obError('no such entry for this TPP') };
const created = (what: string, schema: string) => ({
  '201': ok(`the ${what}`, schema),
  ...FAILURES,
  '409': obError('the TPP already has one: change it with PUT'),
});

export const eventApi: ApiPart = {
  tag: 'UK OB event notifications',
  description: "Consent status events as signed SETs: polled (POST /events), or pushed to the TPP's callback URL",
  schemas: {
    EventPollingRequest: jsonSchema(pollBody, 'input'),
    EventPollingResponse: jsonSchema(pollResponse, 'output'),
    CallbackUrlRequest: jsonSchema(callbackUrlBody, 'input'),
    CallbackUrlUpdateRequest: jsonSchema(callbackUrlUpdateBody, 'input'),
    CallbackUrlResponse: jsonSchema(z.object({ Data: callbackUrl, Links: links, Meta: z.object({}) }), 'output'),
    CallbackUrlsResponse: jsonSchema(
      z.object({ Data: z.object({ CallbackUrl: z.array(callbackUrl) }), Links: links, Meta: z.object({}) }),
      'output',
    ),
    EventSubscriptionRequest: jsonSchema(subscriptionBody, 'input'),
    EventSubscriptionResponse: jsonSchema(z.object({ Data: subscription, Links: links, Meta: z.object({}) }), 'output'),
    EventSubscriptionsResponse: jsonSchema(
      z.object({ Data: z.object({ EventSubscription: z.array(subscription) }), Links: links, Meta: z.object({}) }),
      'output',
    ),
  },
  operations: {
    CreateEvents: {
      description:
        'Acknowledges (ack) or reports (setErrs) earlier events and returns up to maxEvents more; unless returnImmediately, waits up to EVENT_LONG_POLL seconds for one.',
      parameters: [INTERACTION_ID],
      requestBody: { required: true, content: jsonBody('EventPollingRequest') },
      responses: { '200': ok('pending events', 'EventPollingResponse'), ...FAILURES },
    },
    CreateCallbackUrls: {
      parameters: [INTERACTION_ID],
      requestBody: { required: true, content: jsonBody('CallbackUrlRequest') },
      responses: created('callback URL', 'CallbackUrlResponse'),
    },
    GetCallbackUrls: {
      parameters: [INTERACTION_ID],
      responses: { '200': ok("the TPP's callback URLs (none or one)", 'CallbackUrlsResponse'), ...FAILURES },
    },
    ChangeCallbackUrlsCallbackUrlId: {
      parameters: [ID, INTERACTION_ID],
      requestBody: { required: true, content: jsonBody('CallbackUrlUpdateRequest') },
      responses: { '200': ok('the changed callback URL', 'CallbackUrlResponse'), ...FAILURES, ...gone },
    },
    DeleteCallbackUrlsCallbackUrlId: {
      parameters: [ID, INTERACTION_ID],
      responses: { '204': { description: 'removed', headers: RESPONSE_HEADERS }, ...FAILURES, ...gone },
    },
    CreateEventSubscriptions: {
      parameters: [INTERACTION_ID],
      requestBody: { required: true, content: jsonBody('EventSubscriptionRequest') },
      responses: created('event subscription', 'EventSubscriptionResponse'),
    },
    GetEventSubscriptions: {
      parameters: [INTERACTION_ID],
      responses: { '200': ok("the TPP's event subscriptions (none or one)", 'EventSubscriptionsResponse'), ...FAILURES },
    },
    ChangeEventSubscriptionsEventSubscriptionId: {
      parameters: [ID, INTERACTION_ID],
      requestBody: { required: true, content: jsonBody('EventSubscriptionRequest') },
      responses: { '200': ok('the changed event subscription', 'EventSubscriptionResponse'), ...FAILURES, ...gone },
    },
    DeleteEventSubscriptionsEventSubscriptionId: {
      parameters: [ID, INTERACTION_ID],
      responses: { '204': { description: 'removed', headers: RESPONSE_HEADERS }, ...FAILURES, ...gone },
    },
  },
};

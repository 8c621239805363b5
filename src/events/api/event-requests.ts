import { z } from 'zod';
import { ObError } from '../../ob-api/ob-error.ts';
import type { ObProblem } from '../../protocol/ob-error-codes.ts';
import { EVENT_TYPES } from '../../protocol/event-types.ts';
import type { PollRequest } from '../polling-service.ts';
import type { SubscriptionInput } from '../subscription-service.ts';

/** The event API's request bodies (UK OB v3.1 Event Notification API), parsed once at the edge. */

/** The most SETs one poll returns; a larger maxEvents is cut to it. */
export const MAX_EVENTS_PER_POLL = 100;
const DEFAULT_MAX_EVENTS = 20;

const callbackUrl = z
  // abort: the refinement parses the URL, so it must not run on a value that is not one.
  .url({ protocol: /^https$/, error: 'must be an https URL', abort: true })
  .max(2048)
  .refine((value) => {
    const url = new URL(value);
    return !url.username && !url.password && !url.hash;
  }, 'must not carry credentials or a fragment');
const version = z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'must be a version such as 3.1');
const eventTypes = z
  .array(z.enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` }))
  .min(1)
  .max(EVENT_TYPES.length);

export const pollBody = z.strictObject({
  ack: z.array(z.string().max(100)).max(1000).optional(),
  setErrs: z.record(z.string().max(100), z.strictObject({ err: z.string().min(1).max(100), description: z.string().max(1000) })).optional(),
  maxEvents: z.int().min(0).optional(),
  returnImmediately: z.boolean().optional(),
});

export const callbackUrlBody = z.object({ Data: z.object({ Url: callbackUrl, Version: version }) });
export const callbackUrlUpdateBody = z.object({
  Data: z.object({ CallbackUrlId: z.string().optional(), Url: callbackUrl, Version: version }),
});
export const subscriptionBody = z.object({
  Data: z.object({
    EventSubscriptionId: z.string().optional(),
    CallbackUrl: callbackUrl.optional(),
    Version: version,
    EventTypes: eventTypes.optional(),
  }),
});

function problems(error: z.ZodError): ObProblem[] {
  return error.issues.map((issue) => ({
    code:
      issue.code === 'invalid_type' && issue.input === undefined
        ? 'UK.OBIE.Field.Missing'
        : issue.code === 'unrecognized_keys'
          ? 'UK.OBIE.Field.Unexpected'
          : 'UK.OBIE.Field.Invalid',
    message: issue.message,
    ...(issue.path.length > 0 && { path: issue.path.join('.') }),
  }));
}

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ObError(400, `the ${what} is not valid`, problems(parsed.error));
  return parsed.data;
}

export function parsePollRequest(body: unknown): PollRequest {
  const parsed = parse(pollBody, body, 'polling request');
  return {
    ack: parsed.ack ?? [],
    setErrs: parsed.setErrs ?? {},
    maxEvents: Math.min(parsed.maxEvents ?? DEFAULT_MAX_EVENTS, MAX_EVENTS_PER_POLL),
    // RFC 8936: the default is to wait for events.
    returnImmediately: parsed.returnImmediately ?? false,
  };
}

/** A callback-urls body; `id` (on PUT) must match the path when the body names one. */
export function parseCallbackUrl(body: unknown, id?: string): SubscriptionInput {
  const { Data } = id === undefined ? parse(callbackUrlBody, body, 'callback URL') : parse(callbackUrlUpdateBody, body, 'callback URL');
  if (id !== undefined && 'CallbackUrlId' in Data && Data.CallbackUrlId !== undefined && Data.CallbackUrlId !== id) {
    throw ObError.of(400, 'UK.OBIE.Field.Invalid', 'Data.CallbackUrlId does not match the URL', 'Data.CallbackUrlId');
  }
  return { callbackUrl: Data.Url, version: Data.Version, eventTypes: null };
}

export function parseEventSubscription(body: unknown, id?: string): SubscriptionInput {
  const { Data } = parse(subscriptionBody, body, 'event subscription');
  if (id !== undefined && Data.EventSubscriptionId !== undefined && Data.EventSubscriptionId !== id) {
    throw ObError.of(400, 'UK.OBIE.Field.Invalid', 'Data.EventSubscriptionId does not match the URL', 'Data.EventSubscriptionId');
  }
  return {
    callbackUrl: Data.CallbackUrl ?? null,
    version: Data.Version,
    eventTypes: Data.EventTypes ? [...new Set(Data.EventTypes)] : null,
  };
}

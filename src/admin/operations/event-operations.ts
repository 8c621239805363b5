import { z } from 'zod';
import { listDeadLetters, redeliverDeadLetters } from '../../events/dead-letters.ts';
import { actorOf, operation } from '../admin-operation.ts';

const tpp = z.string().min(1).max(200).describe('TPP client id');

const deadLetters = operation({
  name: 'events:dead-letters',
  summary: 'lists event notifications whose push gave up (oldest first), with the last error',
  method: 'GET',
  path: '/events/dead-letters',
  input: z.object({
    tpp: tpp.optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(100),
  }),
  run: ({ db }, input) => listDeadLetters(db, { clientId: input.tpp, limit: input.limit }),
});

/** An array over the API; comma-separated on the command line. */
const eventIds = z
  .preprocess(
    (value) => (typeof value === 'string' ? value.split(',').map((id) => id.trim()) : value),
    z
      .array(z.uuid({ error: 'is not an event id (a UUID, as events:dead-letters lists them)' }))
      .min(1)
      .max(1000),
  )
  .describe('event ids, as events:dead-letters lists them');

const redeliver = operation({
  name: 'events:redeliver',
  summary: "queues dead-lettered event notifications for push again with fresh attempts: all, one TPP's, or the given events",
  method: 'POST',
  path: '/events/redeliveries',
  input: z
    .object({
      all: z.boolean().optional().describe('every dead letter'),
      tpp: tpp.optional(),
      events: eventIds.optional(),
    })
    .refine((input) => [input.all === true, input.tpp !== undefined, input.events !== undefined].filter(Boolean).length === 1, {
      error: 'give exactly one of all, tpp or events',
    }),
  async run({ db, operator }, input) {
    return { queued: await redeliverDeadLetters(db, { clientId: input.tpp, eventIds: input.events, actor: actorOf(operator) }) };
  },
});

export const eventOperations = [deadLetters, redeliver];

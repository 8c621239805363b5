import type { Db } from '../db/connect.ts';
import { AssentError } from '../protocol/assent-error.ts';
import type { EventSubscriptionRow } from '../db/schema.ts';
import type { EventType } from '../protocol/event-types.ts';
import {
  deleteSubscriptionOfClient,
  findSubscriptionOfClient,
  insertSubscriptionUnlessExists,
  type SubscriptionColumns,
  updateSubscriptionOfClient,
} from './subscription-repository.ts';

/**
 * A TPP's subscription to event notifications: at most one per TPP (UK OB), managed through either
 * the callback-urls or the event-subscriptions resource. A callback URL turns push on; without one
 * the TPP polls. Event types narrow what is pushed (null: all).
 */

export interface EventSubscription {
  id: string;
  clientId: string;
  callbackUrl: string | null;
  version: string;
  eventTypes: EventType[] | null;
}

export interface SubscriptionInput {
  callbackUrl: string | null;
  version: string;
  eventTypes: EventType[] | null;
}

export class SubscriptionExists extends AssentError {
  override name = 'SubscriptionExists';
  constructor() {
    super('subscription_exists', 'this TPP already has an event subscription; change it with PUT or remove it with DELETE', {
      status: 409,
    });
  }
}

export class SubscriptionNotFound extends AssentError {
  override name = 'SubscriptionNotFound';
  constructor(what = 'event subscription') {
    super('subscription_not_found', `${what} not found`, { status: 404 });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toSubscription(row: EventSubscriptionRow): EventSubscription {
  return {
    id: row.id,
    clientId: row.client_id,
    callbackUrl: row.callback_url,
    version: row.version,
    eventTypes: row.event_types as EventType[] | null,
  };
}

const columns = (input: SubscriptionInput): SubscriptionColumns => ({
  callback_url: input.callbackUrl,
  version: input.version,
  event_types: input.eventTypes === null ? null : JSON.stringify(input.eventTypes),
});

export async function getSubscription(db: Db, clientId: string): Promise<EventSubscription | undefined> {
  const row = await findSubscriptionOfClient(db, clientId);
  return row && toSubscription(row);
}

/** Creates the TPP's subscription; a second one is refused (the unique client_id decides races). */
export async function createSubscription(db: Db, clientId: string, input: SubscriptionInput): Promise<EventSubscription> {
  const row = await insertSubscriptionUnlessExists(db, clientId, columns(input));
  if (!row) throw new SubscriptionExists();
  return toSubscription(row);
}

/** Replaces the TPP's own subscription; another TPP's id is not found. */
export async function replaceSubscription(db: Db, clientId: string, id: string, input: SubscriptionInput): Promise<EventSubscription> {
  if (!UUID.test(id)) throw new SubscriptionNotFound();
  const row = await updateSubscriptionOfClient(db, clientId, id, columns(input));
  if (!row) throw new SubscriptionNotFound();
  return toSubscription(row);
}

/** Removes the TPP's own subscription: nothing more is pushed; events stay available to polling. */
export async function deleteSubscription(db: Db, clientId: string, id: string): Promise<void> {
  if (!UUID.test(id)) throw new SubscriptionNotFound();
  const result = await deleteSubscriptionOfClient(db, clientId, id);
  if (Number(result.numDeletedRows) === 0) throw new SubscriptionNotFound();
}

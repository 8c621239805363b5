import type { Db } from '../db/connect.ts';
import { deadEvents, requeueDeadEvents } from './event-repository.ts';

/**
 * The operator's view of pushes that gave up (dead letters), and the way to send them again once the
 * TPP's endpoint is fixed. Meant for the admin CLI and the admin API. Dead events stay available to
 * the TPP's polling until acknowledged.
 */

export interface DeadLetter {
  eventId: string;
  clientId: string;
  consentId: string;
  eventType: string;
  status: string;
  occurredAt: Date;
  attempts: number;
  lastError: string | null;
}

export async function listDeadLetters(db: Db, options: { clientId?: string | undefined; limit?: number } = {}): Promise<DeadLetter[]> {
  const rows = await deadEvents(db, { clientId: options.clientId, limit: options.limit ?? 100 });
  return rows.map((row) => ({
    eventId: row.id,
    clientId: row.client_id,
    consentId: row.consent_id,
    eventType: row.event_type,
    status: row.status,
    occurredAt: row.occurred_at,
    attempts: row.attempts,
    lastError: row.last_error,
  }));
}

/** Queues dead letters for push again with fresh attempts (all, one TPP's, or the given ids); returns how many. */
export function redeliverDeadLetters(db: Db, options: { clientId?: string | undefined; eventIds?: readonly string[] | undefined } = {}): Promise<number> {
  return requeueDeadEvents(db, { clientId: options.clientId, ids: options.eventIds });
}

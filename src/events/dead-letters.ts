import { appendAuditEvent } from '../audit/audit-trail.ts';
import type { Db } from '../db/connect.ts';
import type { AuditActorKind } from '../db/schema.ts';
import { deadEvents, requeueDeadEvents } from './event-repository.ts';

/**
 * The operator's view of pushes that gave up (dead letters), and the way to send them again once the
 * TPP's endpoint is fixed: the admin operations events:dead-letters and events:redeliver. Dead events stay available to
 * the TPP's polling until acknowledged. A dead event holds back the later events of its consent, so
 * that push keeps each consent's order; redelivering it lets them follow.
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
  /** Later events of the same consent that push holds back until this one is redelivered (or acknowledged by polling). */
  heldBack: number;
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
    heldBack: row.held_back,
  }));
}

/**
 * Queues dead letters for push again with fresh attempts (all, one TPP's, or the given ids), and audits
 * it on each TPP concerned in the same transaction; returns how many.
 */
export function redeliverDeadLetters(
  db: Db,
  options: { clientId?: string | undefined; eventIds?: readonly string[] | undefined; actor: { kind: AuditActorKind; id: string | null } },
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const requeued = await requeueDeadEvents(trx, { clientId: options.clientId, ids: options.eventIds });
    const byClient = Map.groupBy(requeued, (row) => row.client_id);
    for (const [clientId, rows] of byClient) {
      await appendAuditEvent(trx, {
        subjectType: 'tpp',
        subjectId: clientId,
        event: 'events.redelivered',
        actor: options.actor,
        details: { eventIds: rows.map((row) => row.id) },
      });
    }
    return requeued.length;
  });
}

import { sql, type Transaction } from 'kysely';
import type { ConsentStatus, ConsentType, Database } from '../db/schema.ts';
import type { ConsentStandard } from '../protocol/consent-types.ts';
import type { EventType } from '../protocol/event-types.ts';

/** The consent_event outbox table and each consent's event counter. */

export interface NewConsentEvent {
  /** The change's id, shared by the events one change writes. */
  txn: string;
  clientId: string;
  consentId: string;
  consentType: ConsentType;
  consentStandard: ConsentStandard;
  type: EventType;
  status: ConsentStatus;
  reason: string | null;
}

/**
 * Inserts one event with the consent's next number, queued for push at once when the TPP subscribed
 * with a callback URL to this type (or to all). One statement: the counter row stays locked until the
 * transaction ends, so the numbers follow the order in which a consent's changes commit.
 */
export async function insertConsentEvent(trx: Transaction<Database>, event: NewConsentEvent): Promise<void> {
  const subscribed = sql<boolean>`exists (select 1 from event_subscription s where s.client_id = ${event.clientId} and s.callback_url is not null and (s.event_types is null or s.event_types ? ${event.type}))`;
  await trx
    .with('numbered', (db) =>
      db
        .insertInto('consent_event_sequence')
        .values({ consent_id: event.consentId, last_seq: 1 })
        .onConflict((conflict) =>
          conflict.column('consent_id').doUpdateSet({ last_seq: sql`consent_event_sequence.last_seq + 1`, updated_at: sql`now()` }),
        )
        .returning('last_seq'),
    )
    .insertInto('consent_event')
    .values({
      txn: event.txn,
      client_id: event.clientId,
      consent_id: event.consentId,
      consent_seq: sql<number>`(select last_seq from numbered)`,
      consent_type: event.consentType,
      consent_standard: event.consentStandard,
      event_type: event.type,
      status: event.status,
      reason: event.reason,
      push_state: sql`case when ${subscribed} then 'pending' else 'none' end`,
      next_attempt_at: sql`case when ${subscribed} then now() else null end`,
    })
    .execute();
}

import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { ConsentUseKind } from '../db/schema.ts';

/** The consent_use timeline and `consent.last_used_at`, always written together. */

/** One use on the timeline, and `last_used_at` moved when it is a minute or more behind, in one statement. */
export async function insertUseTouchingConsent(db: Db, use: { consentId: string; kind: ConsentUseKind; clientId: string }): Promise<void> {
  const touch = db
    .updateTable('consent')
    .set({ last_used_at: sql<Date>`now()` })
    .where('id', '=', use.consentId)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', sql<Date>`now() - interval '1 minute'`)]))
    .returning('id');
  // A data-modifying CTE runs whether or not the insert reads it: every use is on the timeline.
  await db
    .with('touched', () => touch)
    .insertInto('consent_use')
    .values({ consent_id: use.consentId, kind: use.kind, client_id: use.clientId })
    .execute();
}

/**
 * Introspections noted since the last write, one statement: each consent whose `last_used_at` is a
 * minute or more behind its note gets it moved and an `introspected` use. Rows are locked in id order,
 * as every writer of several consents takes them, so two processes' writes cannot deadlock; the
 * once-a-minute condition is checked again on the locked row.
 */
export async function insertIntrospections(db: Db, noted: readonly { consentId: string; clientId: string; at: Date }[]): Promise<void> {
  const sorted = noted.toSorted((a, b) => (a.consentId < b.consentId ? -1 : a.consentId > b.consentId ? 1 : 0));
  const ids = sorted.map((use) => use.consentId);
  const clients = sorted.map((use) => use.clientId);
  const times = sorted.map((use) => use.at.toISOString());
  await sql`
    with noted as (
      select * from unnest(${ids}::uuid[], ${clients}::text[], ${times}::timestamptz[]) as n (consent_id, client_id, at)
    ), due as (
      select c.id from consent c join noted n on n.consent_id = c.id
       where c.last_used_at is null or c.last_used_at < n.at - interval '1 minute'
       order by c.id for no key update of c
    ), touched as (
      update consent c set last_used_at = n.at from due d, noted n
       where c.id = d.id and n.consent_id = c.id and (c.last_used_at is null or c.last_used_at < n.at - interval '1 minute')
      returning c.id, n.client_id, n.at
    )
    insert into consent_use (consent_id, kind, client_id, occurred_at) select id, 'introspected', client_id, at from touched`.execute(db);
}

/** A consent's uses, oldest first. */
export function listUsesOfConsent(db: Db, consentId: string) {
  return db
    .selectFrom('consent_use')
    .select(['kind', 'client_id', 'occurred_at'])
    .where('consent_id', '=', consentId)
    .orderBy('occurred_at')
    .orderBy('id')
    .execute();
}

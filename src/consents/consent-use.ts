import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { ConsentUseKind } from '../db/schema.ts';

const MINUTE_MS = 60_000;
/** Per database, when this process last recorded an introspection of each consent. */
const written = new WeakMap<Db, Map<string, number>>();

/** Whether this process already recorded an introspection of the consent within the minute. */
function introspectedLately(db: Db, consentId: string): boolean {
  const now = Date.now();
  let recent = written.get(db);
  if (!recent) written.set(db, (recent = new Map()));
  if (now - (recent.get(consentId) ?? 0) < MINUTE_MS) return true;
  if (recent.size >= 10_000) for (const [id, at] of recent) if (now - at >= MINUTE_MS) recent.delete(id);
  recent.set(consentId, now);
  return false;
}

/**
 * Records each use of a consent's tokens for the customer's timeline (AU CDR rule 1.15) and keeps
 * `last_used_at` to the minute. Issuing and refreshing are recorded every time; introspection, which a
 * busy resource server does on every API call, at most once a minute per consent: each process skips
 * the database within the minute, and across processes the conditional update of `last_used_at`
 * decides under the consent row's lock, so concurrent introspections record it once. One statement
 * each, so the timeline and `last_used_at` never disagree.
 */
export interface ConsentUse {
  consentId: string;
  kind: ConsentUseKind;
  /** The client that used it: the TPP, or the bank's resource server at introspection. */
  clientId: string;
}

export async function noteConsentUse(db: Db, { consentId, kind, clientId }: ConsentUse): Promise<void> {
  if (kind === 'introspected' && introspectedLately(db, consentId)) return;
  const touch = db
    .updateTable('consent')
    .set({ last_used_at: sql<Date>`now()` })
    .where('id', '=', consentId)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', sql<Date>`now() - interval '1 minute'`)]))
    .returning('id');
  if (kind === 'introspected') {
    await db
      .with('touched', () => touch)
      .insertInto('consent_use')
      .columns(['consent_id', 'kind', 'client_id'])
      .expression((eb) => eb.selectFrom('touched').select(['touched.id', eb.val(kind).as('kind'), eb.val(clientId).as('client_id')]))
      .execute();
    return;
  }
  // A data-modifying CTE runs whether or not the insert reads it.
  await db.with('touched', () => touch).insertInto('consent_use').values({ consent_id: consentId, kind, client_id: clientId }).execute();
}

export interface RecordedUse {
  kind: ConsentUseKind;
  clientId: string;
  occurredAt: Date;
}

export async function usesOfConsent(db: Db, consentId: string): Promise<RecordedUse[]> {
  const rows = await db.selectFrom('consent_use').select(['kind', 'client_id', 'occurred_at']).where('consent_id', '=', consentId).orderBy('occurred_at').orderBy('id').execute();
  return rows.map((row) => ({ kind: row.kind, clientId: row.client_id, occurredAt: row.occurred_at }));
}

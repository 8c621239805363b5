import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';

/**
 * When a TPP last used each consent, for the dashboard. Coarse on purpose: each process writes at most
 * once a minute per consent, and the conditional upsert keeps several processes to about that too, so
 * token issuance and introspection never wait on a write per request.
 */

const RESOLUTION_MS = 60_000;
const recentlyRecorded = new Map<string, number>();

/** Call where a token for the consent is issued or introspected. */
export async function recordConsentUse(db: Db, consentId: string, now = Date.now()): Promise<void> {
  const last = recentlyRecorded.get(consentId);
  if (last !== undefined && now - last < RESOLUTION_MS) return;
  recentlyRecorded.set(consentId, now);
  if (recentlyRecorded.size > 10_000) {
    for (const [id, at] of recentlyRecorded) if (now - at >= RESOLUTION_MS) recentlyRecorded.delete(id);
  }
  await db
    .insertInto('consent_last_use')
    .values({ consent_id: consentId, last_used_at: sql<Date>`now()` })
    .onConflict((oc) =>
      oc.column('consent_id')
        .doUpdateSet({ last_used_at: sql<Date>`now()` })
        .where('consent_last_use.last_used_at', '<', sql<Date>`now() - interval '1 minute'`),
    )
    .execute();
}

export async function lastUses(db: Db, consentIds: readonly string[]): Promise<Map<string, Date>> {
  if (consentIds.length === 0) return new Map();
  const rows = await db.selectFrom('consent_last_use').selectAll().where('consent_id', 'in', consentIds).execute();
  return new Map(rows.map((row) => [row.consent_id, row.last_used_at]));
}

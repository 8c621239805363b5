import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';

/**
 * Records that a consent's token was used (issued or introspected), coarsely: the conditional update
 * writes at most once a minute per consent, so busy resource servers do not turn every introspection
 * into a write.
 */
export async function noteConsentUse(db: Db, consentId: string): Promise<void> {
  await db
    .updateTable('consent')
    .set({ last_used_at: sql<Date>`now()` })
    .where('id', '=', consentId)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', sql<Date>`now() - interval '1 minute'`)]))
    .execute();
}

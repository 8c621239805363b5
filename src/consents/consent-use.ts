import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';

const MINUTE_MS = 60_000;
/** Per database, when this process last wrote each consent's use. */
const written = new WeakMap<Db, Map<string, number>>();

/**
 * Records that a consent's token was used (issued or introspected), coarsely: at most once a minute
 * per consent and process, so busy resource servers do not turn introspection into a write; the
 * conditional update keeps several processes to about one write a minute too.
 */
export async function noteConsentUse(db: Db, consentId: string): Promise<void> {
  const now = Date.now();
  let recent = written.get(db);
  if (!recent) written.set(db, (recent = new Map()));
  if (now - (recent.get(consentId) ?? 0) < MINUTE_MS) return;
  if (recent.size >= 10_000) for (const [id, at] of recent) if (now - at >= MINUTE_MS) recent.delete(id);
  recent.set(consentId, now);
  await db
    .updateTable('consent')
    .set({ last_used_at: sql<Date>`now()` })
    .where('id', '=', consentId)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', sql<Date>`now() - interval '1 minute'`)]))
    .execute();
}

import type { Db } from '../db/connect.ts';

/**
 * Where a customer is in strong authentication within one interaction, and when they last did
 * anything there: PSD2 RTS Art. 4 ends a session after at most 5 minutes without activity.
 */

export type ScaProgress = { state: 'active'; passwordVerifiedFor: string | undefined } | { state: 'timed_out' };

/** Rows outlive the longest interaction; the sweep removes them afterwards. */
const RETENTION_SECONDS = 3600;

/**
 * Records activity on the interaction, unless it has already been idle longer than `idleSeconds`: one
 * statement (the first request inserts the row; a later one moves last_seen_at only while within the
 * limit), so a timed-out interaction is answered without a write and a live one in one round trip.
 */
export async function touchScaProgress(db: Db, uid: string, idleSeconds: number, now = new Date()): Promise<ScaProgress> {
  const row = await db
    .insertInto('sca_interaction')
    .values({ uid, last_seen_at: now, expires_at: new Date(now.getTime() + RETENTION_SECONDS * 1000) })
    .onConflict((oc) => oc.column('uid').doUpdateSet({ last_seen_at: now }).where('sca_interaction.last_seen_at', '>=', new Date(now.getTime() - idleSeconds * 1000)))
    .returning(['customer_id', 'password_verified_at'])
    .executeTakeFirst();
  if (!row) return { state: 'timed_out' };
  return { state: 'active', passwordVerifiedFor: row.password_verified_at ? (row.customer_id ?? undefined) : undefined };
}

export async function recordPasswordFactor(db: Db, uid: string, customerId: string, now = new Date()): Promise<void> {
  await db.updateTable('sca_interaction').set({ customer_id: customerId, password_verified_at: now }).where('uid', '=', uid).execute();
}

/** After a lockout the customer starts again from the password. */
export async function forgetPasswordFactor(db: Db, uid: string): Promise<void> {
  await db.updateTable('sca_interaction').set({ customer_id: null, password_verified_at: null }).where('uid', '=', uid).execute();
}

export async function sweepScaProgress(db: Db, now = new Date()): Promise<number> {
  const result = await db.deleteFrom('sca_interaction').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

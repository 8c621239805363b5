import type { Transaction } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { Database } from '../db/schema.ts';

/**
 * PSD2 RTS Art. 4: at most five consecutive failed authentication attempts, then a lockout. Counters
 * are kept per username as typed, whether or not such a customer exists, so a lockout reveals nothing.
 * Both factors count; only a completed strong authentication clears the counter.
 */

export const MAX_CONSECUTIVE_FAILURES = 5;

export async function lockedUntil(db: Db, username: string, now: Date): Promise<Date | undefined> {
  const row = await db.selectFrom('login_throttle').select('locked_until').where('username', '=', username).executeTakeFirst();
  return lockInForce(row?.locked_until ?? null, now);
}

/** A recorded lockout that has not ended yet. */
export function lockInForce(until: Date | null, now: Date): Date | undefined {
  return until && until > now ? until : undefined;
}

/** Counts one failure; returns the end of the lockout when this failure starts one. */
export async function recordFailure(trx: Transaction<Database>, username: string, lockoutSeconds: number, now: Date): Promise<Date | undefined> {
  await trx.insertInto('login_throttle').values({ username }).onConflict((oc) => oc.column('username').doNothing()).execute();
  const row = await trx.selectFrom('login_throttle').selectAll().where('username', '=', username).forUpdate().executeTakeFirstOrThrow();
  const lockExpired = row.locked_until !== null && row.locked_until <= now;
  const failures = (lockExpired ? 0 : row.consecutive_failures) + 1;
  const locks = failures >= MAX_CONSECUTIVE_FAILURES;
  const until = locks ? new Date(now.getTime() + lockoutSeconds * 1000) : undefined;
  await trx
    .updateTable('login_throttle')
    .set({ consecutive_failures: locks ? 0 : failures, locked_until: until ?? (lockExpired ? null : row.locked_until), updated_at: now })
    .where('username', '=', username)
    .execute();
  return until;
}

/** Forgets counters nobody has touched for a day and lockouts that ended (usernames typed in a flood). */
export async function sweepLoginThrottle(db: Db, now: Date): Promise<number> {
  const dayAgo = new Date(now.getTime() - 24 * 3600 * 1000);
  const result = await db
    .deleteFrom('login_throttle')
    .where((eb) => eb.or([eb('updated_at', '<', dayAgo), eb('locked_until', '<', now)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

import type { Db } from '../db/connect.ts';
import type { Selectable, Transaction } from 'kysely';
import type { Database, LoginThrottleTable } from '../db/schema.ts';

/** Failed-authentication counters per username as typed (login-throttle.ts says why). */

export async function findLockedUntil(db: Db, username: string): Promise<Date | null> {
  const row = await db.selectFrom('login_throttle').select('locked_until').where('username', '=', username).executeTakeFirst();
  return row?.locked_until ?? null;
}

/** The username's counter, created when missing, locked for the caller's transaction. */
export async function lockThrottle(trx: Transaction<Database>, username: string): Promise<Selectable<LoginThrottleTable>> {
  await trx
    .insertInto('login_throttle')
    .values({ username })
    .onConflict((oc) => oc.column('username').doNothing())
    .execute();
  return trx.selectFrom('login_throttle').selectAll().where('username', '=', username).forUpdate().executeTakeFirstOrThrow();
}

export async function updateThrottle(
  trx: Transaction<Database>,
  username: string,
  change: { consecutiveFailures: number; lockedUntil: Date | null; at: Date },
): Promise<void> {
  await trx
    .updateTable('login_throttle')
    .set({ consecutive_failures: change.consecutiveFailures, locked_until: change.lockedUntil, updated_at: change.at })
    .where('username', '=', username)
    .execute();
}

/** Deletes counters untouched since `idleBefore` and lockouts ended before `now`; returns how many. */
export async function deleteStaleThrottles(db: Db, idleBefore: Date, now: Date): Promise<number> {
  const result = await db
    .deleteFrom('login_throttle')
    .where((eb) => eb.or([eb('updated_at', '<', idleBefore), eb('locked_until', '<', now)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Forgets the username's failures and lockout. */
export function deleteThrottle(trx: Transaction<Database>, username: string) {
  return trx.deleteFrom('login_throttle').where('username', '=', username).execute();
}

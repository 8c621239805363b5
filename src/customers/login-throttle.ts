import type { Transaction } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { Database } from '../db/schema.ts';
import { deleteStaleThrottles, findLockedUntil, lockThrottle, updateThrottle } from './login-throttle-repository.ts';

/**
 * PSD2 RTS Art. 4: at most five consecutive failed authentication attempts, then a lockout. Counters
 * are kept per username as typed, whether or not such a customer exists, so a lockout reveals nothing.
 * Both factors count; only a completed strong authentication clears the counter.
 */

export const MAX_CONSECUTIVE_FAILURES = 5;

export async function lockedUntil(db: Db, username: string, now: Date): Promise<Date | undefined> {
  return lockInForce(await findLockedUntil(db, username), now);
}

/** A recorded lockout that has not ended yet. */
export function lockInForce(until: Date | null, now: Date): Date | undefined {
  return until && until > now ? until : undefined;
}

/** Counts one failure; returns the end of the lockout when this failure starts one. */
export async function recordFailure(
  trx: Transaction<Database>,
  username: string,
  lockoutSeconds: number,
  now: Date,
): Promise<Date | undefined> {
  const row = await lockThrottle(trx, username);
  const lockExpired = row.locked_until !== null && row.locked_until <= now;
  const failures = (lockExpired ? 0 : row.consecutive_failures) + 1;
  const locks = failures >= MAX_CONSECUTIVE_FAILURES;
  const until = locks ? new Date(now.getTime() + lockoutSeconds * 1000) : undefined;
  await updateThrottle(trx, username, {
    consecutiveFailures: locks ? 0 : failures,
    lockedUntil: until ?? (lockExpired ? null : row.locked_until),
    at: now,
  });
  return until;
}

/** Forgets counters nobody has touched for a day and lockouts that ended (usernames typed in a flood). */
export async function sweepLoginThrottle(db: Db, now: Date): Promise<number> {
  return deleteStaleThrottles(db, new Date(now.getTime() - 24 * 3600 * 1000), now);
}

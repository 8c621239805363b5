import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';

/**
 * Counts one hit in the key's current window, opening a new window when the last one ended; one
 * statement, so concurrent hits from several processes all count.
 */
export async function countHit(db: Db, key: string, windowSeconds: number): Promise<{ hits: number; windowEndsAt: Date }> {
  const row = await db
    .insertInto('rate_limit')
    .values({ key, hits: 1, window_ends_at: sql<Date>`now() + make_interval(secs => ${windowSeconds})` })
    .onConflict((conflict) =>
      conflict.column('key').doUpdateSet({
        hits: sql<number>`case when rate_limit.window_ends_at > now() then rate_limit.hits + 1 else 1 end`,
        window_ends_at: sql<Date>`case when rate_limit.window_ends_at > now() then rate_limit.window_ends_at else excluded.window_ends_at end`,
      }),
    )
    .returning(['hits', 'window_ends_at'])
    .executeTakeFirstOrThrow();
  return { hits: row.hits, windowEndsAt: row.window_ends_at };
}

/** Takes back one hit counted in the window that ends at `windowEndsAt` (not in a later one). */
export async function returnHit(db: Db, key: string, windowEndsAt: Date): Promise<void> {
  await db
    .updateTable('rate_limit')
    .set({ hits: sql<number>`hits - 1` })
    .where('key', '=', key)
    // JavaScript dates hold milliseconds; the column holds microseconds.
    .where(sql<Date>`date_trunc('milliseconds', window_ends_at)`, '=', windowEndsAt)
    .where('hits', '>', 0)
    .execute();
}

export async function deleteEndedWindows(db: Db): Promise<number> {
  const result = await db
    .deleteFrom('rate_limit')
    .where('window_ends_at', '<', sql<Date>`now()`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

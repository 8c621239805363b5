import { sql } from 'kysely';
import type { Db } from '../../src/db/connect.ts';

/**
 * A fingerprint of every table's rows, to prove a request changed nothing. Only activity stamps are
 * left out: a page view counts as activity (`last_seen_at`), and so does a token's use (`last_used_at`).
 */
const ACTIVITY_COLUMNS = ['last_seen_at', 'last_used_at'];

export async function databaseFingerprint(db: Db): Promise<Record<string, string>> {
  const tables = await sql<{
    name: string;
  }>`select tablename as name from pg_tables where schemaname = 'public' order by tablename`.execute(db);
  const fingerprint: Record<string, string> = {};
  for (const { name } of tables.rows) {
    const row = (
      await sql<{ n: string; digest: string }>`
      select count(*) as n,
             coalesce(md5(string_agg((to_jsonb(t) - ${ACTIVITY_COLUMNS}::text[])::text, '|' order by (to_jsonb(t) - ${ACTIVITY_COLUMNS}::text[])::text)), '') as digest
      from ${sql.table(name)} t`.execute(db)
    ).rows[0]!;
    fingerprint[name] = `${row.n}:${row.digest}`;
  }
  return fingerprint;
}

/** The tables whose rows differ between two fingerprints. */
export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((table) => before[table] !== after[table]);
}

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Kysely, sql } from 'kysely';
import { FileMigrationProvider, Migrator } from 'kysely/migration';

const migrationFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

export class MigrationError extends Error {
  override name = 'MigrationError';
}

// Migrations are written against an untyped schema (they are frozen in time), hence Kysely<any>.
// oxlint-disable-next-line no-explicit-any
type AnyDb = Kysely<any>;

function migrator(db: AnyDb) {
  return new Migrator({ db, provider: new FileMigrationProvider({ fs, path, migrationFolder }) });
}

/**
 * Brings the schema to the latest migration; names of the migrations applied by this call. All of them in
 * one transaction, which first takes a transaction-level lock: processes starting together migrate one
 * after the other, and the later ones find the work done. Kysely's own lock is a session-level one taken on
 * the connection before its transaction and released after it; behind a transaction pooler those three can
 * land on different server sessions, leaving the lock held on a session the pooler keeps open (every later
 * start then waits on it). Handed a transaction, Kysely takes and releases it inside, on the one session.
 */
export async function migrateToLatest(db: AnyDb): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('assent.migrations'))`.execute(trx);
    const { error, results = [] } = await migrator(trx).migrateToLatest();
    // Thrown, so the transaction rolls back whatever ran before the failure.
    if (error) throw new MigrationError('database migration failed', { cause: error });
    return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
  });
}

/** True when every known migration has been applied (used by readiness checks). */
export async function migrationsCurrent(db: AnyDb): Promise<boolean> {
  const migrations = await migrator(db).getMigrations();
  return migrations.every((migration) => migration.executedAt !== undefined);
}

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
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

/** Brings the schema to the latest migration; names of the migrations applied by this call. */
export async function migrateToLatest(db: AnyDb): Promise<string[]> {
  const { error, results = [] } = await migrator(db).migrateToLatest();
  if (error) throw new MigrationError('database migration failed', { cause: error });
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

/** True when every known migration has been applied (used by readiness checks). */
export async function migrationsCurrent(db: AnyDb): Promise<boolean> {
  const migrations = await migrator(db).getMigrations();
  return migrations.every((migration) => migration.executedAt !== undefined);
}

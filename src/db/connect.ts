import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import { Pool } from 'pg';
import type { Database } from './schema.ts';
import { pglitePool } from './pglite-pool.ts';

export type Db = Kysely<Database>;

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/** Kysely hides its pool; metrics read the pg Pool's counters through this map. */
const pools = new WeakMap<Db, Pool>();

/** Connection counts of a Postgres-backed Db; undefined for embedded PGlite (one in-process connection). */
export function poolStats(db: Db): PoolStats | undefined {
  const pool = pools.get(db);
  return pool && { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

export interface DatabaseTarget {
  /** Postgres connection string; undefined selects embedded PGlite in `<dataDir>/pglite`. */
  databaseUrl: string | undefined;
  dataDir: string;
  poolSize?: number;
}

/** Opens Kysely over a pg Pool, or over embedded PGlite when no DATABASE_URL is configured. */
export async function connectDatabase(target: DatabaseTarget): Promise<Db> {
  if (target.databaseUrl) {
    const pool = new Pool({ connectionString: target.databaseUrl, max: target.poolSize ?? 10 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    pools.set(db, pool);
    return db;
  }
  const directory = path.join(target.dataDir, 'pglite');
  await mkdir(directory, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const embedded = await PGlite.create(directory);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: pglitePool(embedded) }) });
}

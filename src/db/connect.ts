import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient, sql } from 'kysely';
import { Pool, type PoolClient } from 'pg';
import type { Logger } from 'pino';
import type { Database } from './schema.ts';
import type { DatabasePooler } from '../protocol/database-pooler.ts';
import { isDatabaseUnavailable, toDatabaseError } from '../protocol/database-unavailable.ts';
import { refusedByPooler } from './connection-failure.ts';
import { pglitePool } from './pglite-pool.ts';
import { isStaleStatement, StatementNames } from './statement-names.ts';

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
  /** Name repeated statements so Postgres keeps their plans (default: unless behind a transaction pooler; see StatementNames). */
  preparedStatements?: boolean;
  /** `transaction`: a pooler lends a session per transaction, so nothing is set on a session (default `session`). */
  pooler?: DatabasePooler;
}

/**
 * Bounds on every wait for Postgres, so that a request never hangs on a database that is gone: a
 * connection (or a free pool slot) within 5 s; an answer within 35 s even from a server that stopped
 * answering at all (client side); and TCP keepalive from 10 s to notice a peer that vanished without
 * closing the socket. An idle connection is kept 5 minutes rather than pg's 10 s: its prepared statements
 * and the plans Postgres keeps for them (after five runs planned afresh) go with it, and a pool that
 * dropped its connections at every lull paid that planning again after each (bench: most of the
 * remaining planning in a complete flow). Idle connections alone do not keep a process alive (a CLI ends
 * when its work does).
 */
const POOL_TIMEOUTS = {
  connectionTimeoutMillis: 5_000,
  idleTimeoutMillis: 300_000,
  allowExitOnIdle: true,
  query_timeout: 35_000,
  keepAlive: true,
  keepAliveInitialDelayMillis: 10_000,
} as const;

/**
 * A statement within 30 s, cancelled by the server so the connection stays usable. Sent as a startup
 * parameter of each session, which a transaction pooler refuses (PgBouncer: "unsupported startup
 * parameter") or drops (it lends sessions it opened itself): behind one, the operator sets it on the
 * role instead (`alter role ... set statement_timeout = '30s'`, docs/production.md).
 */
const SESSION_STATEMENT_TIMEOUT = { statement_timeout: 30_000 } as const;

/**
 * pg emits `error` on idle pooled clients (Pool) and on checked-out ones (Client) when Postgres goes
 * away, e.g. 57P01 on a restart; without listeners that event kills the process. The query that was
 * running fails on its own, and the pool replaces dead clients at the next checkout, so logging is all
 * these handlers do.
 */
function survivePoolErrors(pool: Pool, logger: Logger | undefined) {
  pool.on('connect', (client) => client.on('error', (error) => logger?.warn({ err: error }, 'database connection lost')));
  // The pool re-emits an idle client's error, which the client's own listener above has logged already;
  // without a listener here that re-emission would throw.
  pool.on('error', () => {});
}

/**
 * A pooled client whose connection failures reject with DatabaseUnavailable. A client that saw one is
 * not returned to the pool (after a client-side timeout its connection is in an unknown state).
 * Repeated statements run under the names `names` gives them; one Postgres no longer accepts is run again
 * unnamed when no transaction is open (inside one, Postgres has already aborted the transaction, so the
 * error stands and the next run prepares the statement afresh).
 */
function translatingClient(client: PoolClient, names: StatementNames | undefined): PostgresPoolClient {
  let broken = false;
  let inTransaction = false;
  const run = async (text: string, parameters: unknown[] | undefined) => {
    const name = parameters?.length ? names?.name(text) : undefined;
    if (name === undefined) return client.query(text, parameters);
    try {
      return await client.query({ name, text, values: parameters });
    } catch (error) {
      if (!isStaleStatement(error)) throw error;
      names!.forget(text);
      if (inTransaction) throw error;
      return client.query(text, parameters);
    }
  };
  // Kysely streams through cursors only when configured with one (it is not), so every query is text.
  const query = (text: string, parameters?: readonly unknown[]) => {
    if (/^\s*(begin|start transaction)\b/i.test(text)) inTransaction = true;
    else if (/^\s*(commit|rollback)\s*$/i.test(text)) inTransaction = false;
    return run(text, parameters as unknown[] | undefined).catch((error: unknown) => {
      broken ||= isDatabaseUnavailable(error);
      return toDatabaseError(error);
    });
  };
  return {
    query: query as unknown as PostgresPoolClient['query'],
    release: (destroy?: boolean) => client.release(destroy || broken),
  };
}

/** Kysely's view of the pool, with connection failures turned into DatabaseUnavailable (503 at every edge). */
function translatingPool(pool: Pool, names: StatementNames | undefined): PostgresPool {
  return {
    options: pool.options,
    connect: () => pool.connect().then((client) => translatingClient(client, names), toDatabaseError),
    end: () => pool.end(),
  };
}

/** Opens Kysely over a pg Pool, or over embedded PGlite when no DATABASE_URL is configured. */
export async function connectDatabase(target: DatabaseTarget, options: { logger?: Logger } = {}): Promise<Db> {
  if (target.databaseUrl) {
    const sessions = target.pooler !== 'transaction';
    const pool = new Pool({
      connectionString: target.databaseUrl,
      max: target.poolSize ?? 10,
      ...POOL_TIMEOUTS,
      ...(sessions && SESSION_STATEMENT_TIMEOUT),
    });
    survivePoolErrors(pool, options.logger);
    const names = (target.preparedStatements ?? sessions) ? new StatementNames() : undefined;
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: translatingPool(pool, names) }) });
    pools.set(db, pool);
    return db;
  }
  const directory = path.join(target.dataDir, 'pglite');
  await mkdir(directory, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const embedded = await PGlite.create(directory);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: pglitePool(embedded) }) });
}

const FIRST_RETRY_MS = 500;
const LONGEST_RETRY_MS = 15_000;

/** The Postgres process serving this statement of the connection. */
async function backendPid(client: PoolClient): Promise<number> {
  return (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
}

/**
 * True when two connections of the pool, both held open, are answered by one Postgres session: only a
 * transaction pooler does that (it lends its sessions per transaction). A pooler that happens to hand the
 * two different sessions goes unnoticed, so this is a guard against a forgotten DATABASE_POOLER, not a proof.
 */
export async function servedByTransactionPooler(db: Db): Promise<boolean> {
  const pool = pools.get(db);
  if (!pool || (pool.options.max ?? 10) < 2) return false;
  const first = await pool.connect();
  try {
    const second = await pool.connect();
    try {
      return (await backendPid(first)) === (await backendPid(second));
    } finally {
      second.release();
    }
  } finally {
    first.release();
  }
}

/** One round trip that fails when the database does not answer. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

/**
 * Start-up: waits until the database answers, retrying with exponential backoff (0.5 s doubling to
 * 15 s) and logging each refusal, so a database that starts after Assent (compose, a restart of both)
 * does not end the process. Only "not reachable" is retried; a wrong password or database name fails
 * at once, since waiting cannot fix it. After `giveUpAfterMs` the last refusal is thrown, for start-up
 * to report in one line.
 */
export async function waitForDatabase(db: Db, logger: Logger, giveUpAfterMs: number): Promise<void> {
  const deadline = Date.now() + giveUpAfterMs;
  for (let attempt = 1, delay = FIRST_RETRY_MS; ; attempt += 1, delay = Math.min(delay * 2, LONGEST_RETRY_MS)) {
    try {
      await pingDatabase(db);
      if (attempt > 1) logger.info({ attempt }, 'database reachable');
      return;
    } catch (error) {
      // A pooler refusing how Assent connects stays refusing: waiting cannot fix it either.
      if (!isDatabaseUnavailable(error) || refusedByPooler(error) || Date.now() >= deadline) throw error;
      delay = Math.min(delay, Math.max(0, deadline - Date.now()));
      logger.warn({ err: error, attempt, retryInMs: delay }, 'database unreachable at start-up, retrying');
      await sleep(delay);
    }
  }
}

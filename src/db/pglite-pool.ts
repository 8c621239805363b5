import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/**
 * Lets Kysely's own PostgresDialect drive embedded PGlite. PGlite is one in-process connection, so a
 * pool of one: each checkout waits for the previous one to be released, which keeps Kysely's
 * BEGIN ... COMMIT sequences from interleaving.
 */
export function pglitePool(db: PGlite): PostgresPool {
  let tail: Promise<void> = Promise.resolve();

  const client: Omit<PostgresPoolClient, 'release'> = {
    async query<R>(sql: unknown, parameters?: readonly unknown[]): Promise<PostgresQueryResult<R>> {
      if (typeof sql !== 'string') throw new TypeError('streaming queries are not supported on PGlite');
      const result = await db.query<R>(sql, parameters as unknown[] | undefined);
      const command = (/^\s*(\w+)/.exec(sql)?.[1] ?? '').toUpperCase() as PostgresQueryResult<R>['command'];
      return { command, rowCount: result.affectedRows ?? result.rows.length, rows: result.rows };
    },
  } as Omit<PostgresPoolClient, 'release'>;

  return {
    options: {},
    async connect() {
      let release!: () => void;
      const previous = tail;
      tail = new Promise<void>((resolve) => {
        release = resolve;
      });
      await previous;
      return { ...client, release } as PostgresPoolClient;
    },
    async end() {
      await tail;
      await db.close();
    },
  };
}

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { Client } from 'pg';
import { connectDatabase, type Db } from '../../src/db/connect.ts';
import type { Database } from '../../src/db/schema.ts';
import { createTestDatabase } from '../support/database.ts';

/** The named statements Postgres holds for the pool's one connection (this query itself is unnamed). */
async function preparedOnConnection(db: Db) {
  const { rows } = await sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`.execute(db);
  return rows.filter((row) => row.statement.includes('from probe'));
}

const lookup = (executor: Kysely<Database>, id: number) =>
  sql<Record<string, unknown>>`select * from probe where id = ${id}`.execute(executor);

describe('named statements: Postgres parses and plans a repeated statement once per connection', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let other: Client;
  before(async () => {
    database = await createTestDatabase();
    other = new Client({ connectionString: database.url });
    await other.connect();
  });
  after(async () => {
    await other?.end();
    await database?.drop();
  });

  /** A fresh table and a pool of one connection, so pg_prepared_statements shows that connection's statements. */
  async function withProbe(run: (db: Db) => Promise<void>, options: { preparedStatements?: boolean; pooler?: 'transaction' } = {}) {
    await other.query(
      "drop table if exists probe; create table probe (id int primary key, label text); insert into probe values (1, 'one'), (2, 'two')",
    );
    const db = await connectDatabase({ databaseUrl: database.url, dataDir: '', poolSize: 1, ...options });
    try {
      await run(db);
    } finally {
      await db.destroy();
    }
  }

  test('a statement with parameters runs unnamed the first time, then under one name that later runs reuse', () =>
    withProbe(async (db) => {
      await lookup(db, 1);
      assert.deepEqual(await preparedOnConnection(db), []);
      await lookup(db, 2);
      const named = await preparedOnConnection(db);
      assert.equal(named.length, 1);
      assert.deepEqual((await lookup(db, 1)).rows, [{ id: 1, label: 'one' }]);
      assert.deepEqual(await preparedOnConnection(db), named);
    }));

  test('a migration adds a column under a named `select *`: the next run outside a transaction answers, with the new column', () =>
    withProbe(async (db) => {
      await lookup(db, 1);
      await lookup(db, 1);
      assert.equal((await preparedOnConnection(db)).length, 1);
      await other.query(`alter table probe add column note text not null default 'added'`);
      assert.deepEqual((await lookup(db, 1)).rows, [{ id: 1, label: 'one', note: 'added' }]);
      assert.deepEqual((await lookup(db, 2)).rows, [{ id: 2, label: 'two', note: 'added' }]);
    }));

  test('inside a transaction Postgres refuses the stale plan and aborts the transaction: nothing it wrote stays; the next run answers', () =>
    withProbe(async (db) => {
      await lookup(db, 1);
      await lookup(db, 1);
      await other.query(`alter table probe add column note text not null default 'added'`);
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          await sql`insert into probe (id, label) values (3, 'three')`.execute(trx);
          await lookup(trx, 1);
        }),
        (error: { code?: string }) => error.code === '0A000',
      );
      assert.equal((await other.query('select count(*)::int as n from probe where id = 3')).rows[0].n, 0);
      assert.deepEqual((await lookup(db, 1)).rows, [{ id: 1, label: 'one', note: 'added' }]);
    }));

  test('a named statement gone from the server session (DEALLOCATE ALL) is run again unnamed', () =>
    withProbe(async (db) => {
      await lookup(db, 1);
      await lookup(db, 1);
      await sql`deallocate all`.execute(db);
      assert.deepEqual((await lookup(db, 2)).rows, [{ id: 2, label: 'two' }]);
    }));

  test('behind a transaction pooler nothing is named and no statement_timeout is sent as a session setting', () =>
    withProbe(
      async (db) => {
        for (const id of [1, 2, 1, 2]) await lookup(db, id);
        assert.deepEqual(await preparedOnConnection(db), []);
        const { rows } = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(db);
        assert.equal(rows[0]!.statement_timeout, '0', 'the server default, not the 30 s a session of its own gets');
      },
      { pooler: 'transaction' },
    ));

  test('a session of its own gets the 30 s statement timeout', () =>
    withProbe(async (db) => {
      const { rows } = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(db);
      assert.equal(rows[0]!.statement_timeout, '30s');
    }));

  test('with DATABASE_PREPARED_STATEMENTS off nothing is named', () =>
    withProbe(
      async (db) => {
        for (const id of [1, 2, 1, 2]) await lookup(db, id);
        assert.deepEqual(await preparedOnConnection(db), []);
      },
      { preparedStatements: false },
    ));
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { connectDatabase, type Db } from '../../src/db/connect.ts';
import { createModelFind } from '../../src/store/adapter.ts';
import { migratedTestDatabase } from '../support/migrated-db.ts';

const md5Of = (value: number) => createHash('md5').update(String(value)).digest('hex');

/** How often Postgres planned the pool's one connection's named finds: once and kept (generic), or anew on each run (custom). */
async function findPlans(db: Db) {
  const { rows } = await sql<{ generic_plans: string; custom_plans: string }>`
    select generic_plans, custom_plans from pg_prepared_statements where statement like '%from "oidc_model" as "t"%'`.execute(db);
  return rows.map((row) => ({ generic: Number(row.generic_plans), custom: Number(row.custom_plans) }));
}

describe('the batched find is planned once per connection, not on every run, however large oidc_model is', () => {
  let database: Awaited<ReturnType<typeof migratedTestDatabase>>;
  let db: Db;
  before(async () => {
    database = await migratedTestDatabase();
    // Tens of thousands of rows, as the request scenarios leave them: a plan for ids of unknown number then
    // costs more than one for the actual id, and Postgres used to plan every run anew.
    await sql`
      insert into oidc_model (model, id, payload, expires_at, grant_id)
      select case when i % 2 = 0 then 'PushedAuthorizationRequest' else 'AccessToken' end, md5(i::text), '{}', now() + interval '1 hour',
             case when i % 2 = 1 then md5((i / 2)::text) end
      from generate_series(1, 30000) i`.execute(database.db);
    await sql`insert into oidc_model (model, id, payload, uid) values ('Session', 'a-session', '{"uid": "a-uid"}', 'a-uid')`.execute(
      database.db,
    );
    await sql`analyze oidc_model`.execute(database.db);
    db = await connectDatabase({ databaseUrl: database.url, dataDir: '', poolSize: 1 });
  });
  after(async () => {
    await db?.destroy();
    await database?.drop();
  });

  test('a find of one row: the first five runs planned for their values, every later one runs the plan kept', async () => {
    const find = createModelFind(db);
    for (let run = 0; run < 12; run += 1) {
      const found = await find('Session', run % 2 === 0 ? 'a-session' : 'missing');
      assert.equal(found?.payload.uid, run % 2 === 0 ? 'a-uid' : undefined);
    }
    // The first run goes unnamed (statement-names.ts); the eleven named runs: five custom plans, then the kept one.
    assert.deepEqual(await findPlans(db), [{ generic: 6, custom: 5 }]);
  });

  test('finds of two rows in one turn share a statement, planned the same way', async () => {
    const find = createModelFind(db);
    for (let run = 0; run < 12; run += 1) {
      const [session, token] = await Promise.all([find('Session', 'a-session'), find('AccessToken', md5Of(2 * run + 1))]);
      assert.equal(session?.payload.uid, 'a-uid');
      assert.ok(token, 'the token row is found with the session');
    }
    // The one-row statement of the test before, and the two-row one.
    assert.deepEqual(await findPlans(db), [
      { generic: 6, custom: 5 },
      { generic: 6, custom: 5 },
    ]);
  });
});

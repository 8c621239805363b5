import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Adapter } from 'oidc-provider';
import type { Db } from '../../src/db/connect.ts';
import { createLogger } from '../../src/logger.ts';
import { kyselyAdapterFactory } from '../../src/store/adapter.ts';
import { type ClientCache, listeningClientCache, pollingClientCache } from '../../src/store/client-cache.ts';
import { saveClient } from '../../src/store/clients.ts';
import { clientStanding, reinstateTpp, suspendTpp } from '../../src/tpp/tpp-service.ts';
import { migratedTestDatabase } from '../support/migrated-db.ts';
import { insertTestTppRecord } from '../support/tpp.ts';

/** Polls `check` for up to 10 s (a busy machine delivers notifications late, never not at all). */
async function eventually(check: () => Promise<boolean>, what: string) {
  for (let waited = 0; waited < 10_000; waited += 50) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(`never: ${what}`);
}

/** How each cache learns of changes: LISTEN on its own connection, or (behind a transaction pooler) polling the change count. */
const SOURCES = {
  listening: (url: string) => listeningClientCache(url, createLogger('silent'), { reconnectMs: 100 }),
  polling: (_url: string, db: Db) => pollingClientCache(db, createLogger('silent'), { pollMs: 100 }),
};

for (const [source, makeCache] of Object.entries(SOURCES))
  describe(`client cache (${source}): kept until the database says the client changed`, () => {
    let database: Awaited<ReturnType<typeof migratedTestDatabase>>;
    let db: Db;
    let cache: ClientCache;
    let clients: Adapter;
    const clientId = 'tpp-cached';

    before(async () => {
      database = await migratedTestDatabase();
      db = database.db;
      cache = makeCache(database.url, db);
      const Factory = kyselyAdapterFactory(db, { clientStanding, clientCache: cache });
      clients = new Factory('Client');
      await saveClient(db, {
        client_id: clientId,
        client_name: 'Cached TPP',
        redirect_uris: ['https://tpp.example/cb'],
        token_endpoint_auth_method: 'private_key_jwt',
      });
      await insertTestTppRecord(db, clientId, 'Cached TPP');
    });
    after(async () => {
      await cache.close();
      await database.drop();
    });

    /**
     * True when a find of the client read its row from the database: the row is changed behind the
     * cache's back (triggers off for that transaction, so no notification), and the find shows whether
     * it saw the change.
     */
    let generation = 0;
    async function findLoads() {
      generation += 1;
      const marker = `Cached TPP #${generation}`;
      await db.transaction().execute(async (trx) => {
        await sql`set local session_replication_role = replica`.execute(trx);
        await sql`update oidc_model set payload = jsonb_set(payload::jsonb, '{client_name}', to_jsonb(${marker}::text))
        where model = 'Client' and id = ${clientId}`.execute(trx);
      });
      return (await clients.find(clientId))?.client_name === marker;
    }

    test('a second read is served from memory once the cache is in place (listening, or the count read)', async () => {
      await eventually(async () => (await findLoads()) === false, 'a read served from the cache');
      assert.equal(await findLoads(), false);
      assert.match((await clients.find(clientId))?.client_name as string, /^Cached TPP/);
    });

    test('a suspension refuses the very next load, cache or not; reinstatement brings the client back', async () => {
      await eventually(async () => (await findLoads()) === false, 'served from memory before the suspension');
      await suspendTpp(db, clientId, { reason: 'test', actor: { kind: 'operator', id: 'test' } });
      assert.equal(await clients.find(clientId), undefined, 'no notification is awaited: usability is read on every load');
      await reinstateTpp(db, clientId, { actor: { kind: 'operator', id: 'test' } });
      await eventually(async () => (await clients.find(clientId)) !== undefined, 'the reinstated client is back');
    });

    test('an RFC 7592-style metadata update is seen', async () => {
      await saveClient(db, {
        client_id: clientId,
        client_name: 'Renamed TPP',
        redirect_uris: ['https://tpp.example/cb'],
        token_endpoint_auth_method: 'private_key_jwt',
      });
      await eventually(async () => (await clients.find(clientId))?.client_name === 'Renamed TPP', 'the new name is read');
    });

    if (source === 'polling')
      test('while the change count cannot be read every read goes to the database; caching resumes once it can', async () => {
        await eventually(async () => (await findLoads()) === false, 'cached before the fault');
        await sql`alter table client_change_count rename to client_change_count_away`.execute(db);
        try {
          await eventually(async () => (await findLoads()) === true, 'reads go to the database while polls fail');
        } finally {
          await sql`alter table client_change_count_away rename to client_change_count`.execute(db);
        }
        await eventually(async () => (await findLoads()) === false, 'served from memory again once a poll succeeds');
      });

    if (source === 'listening')
      test('while the listening connection is lost every read goes to the database; caching resumes once it is back', async () => {
        await eventually(async () => (await findLoads()) === false, 'cached before the fault');
        const killed = await sql<{ pid: number }>`
      select pg_terminate_backend(pid) as pid from pg_stat_activity
      where datname = current_database() and query ilike 'listen %'`.execute(db);
        assert.equal(killed.rows.length, 1, 'the listening connection was found and terminated');
        await eventually(async () => (await findLoads()) === true, 'reads go to the database after the loss');
        await eventually(async () => (await findLoads()) === false, 'served from memory again after reconnecting');
      });
  });

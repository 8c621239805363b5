import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { Client } from 'pg';
import { connectDatabase, type Db } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/logger.ts';
import { CLIENT_CHANGED_CHANNEL, listeningClientCache, pollingClientCache } from '../../src/store/client-cache.ts';
import { launchAssent } from '../support/assent-process.ts';
import { createTestDatabase } from '../support/database.ts';
import { freePort } from '../support/free-port.ts';
import { startLoadedAssent, undeliveredEvents, verifyLedger } from '../support/mixed-load.ts';
import { type PgBouncer, startPgBouncer } from '../support/pgbouncer.ts';

/**
 * Assent behind Debian's PgBouncer in transaction-pooling mode (four server connections for every client):
 * with DATABASE_POOLER=transaction the mixed load passes and loses nothing; without it Assent refuses to
 * start rather than run on sessions it does not own.
 */
describe('behind a transaction-pooling PgBouncer', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let bouncer: PgBouncer;

  before(async () => {
    database = await createTestDatabase();
    // What docs/production.md tells the operator: the statement timeout set on the database (or role),
    // since a transaction pooler takes no session settings from the client.
    const admin = new Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(`alter database ${new URL(database.url).pathname.slice(1)} set statement_timeout = '30s'`);
    await admin.end();
    const direct = await connectDatabase({ databaseUrl: database.url, dataDir: '' });
    await migrateToLatest(direct);
    await direct.destroy();
    bouncer = await startPgBouncer(database.url);
  });
  after(async () => {
    await bouncer?.stop();
    await database?.drop();
  });

  test('DATABASE_POOLER=transaction: the mixed load passes, every acknowledged write is there, every event delivered', async (t) => {
    const target = await startLoadedAssent(bouncer.url, { DATABASE_POOLER: 'transaction' });
    try {
      const stop = { now: false };
      const running = target.load.run(stop, 3);
      await sleep(3000);
      stop.now = true;
      await running;
      const { outcomes, ledger } = target.load;
      t.diagnostic(`${outcomes.length} requests through PgBouncer`);
      assert.deepEqual(
        outcomes.filter((outcome) => !outcome.ok),
        [],
        'no request failed',
      );
      assert.ok(ledger.created.size > 0 && ledger.withdrawn.size > 0 && ledger.payments.size > 0);
      assert.deepEqual(await verifyLedger(target.db, target.load), []);
      assert.deepEqual(await undeliveredEvents(target.db, target.load, 15_000), []);
      const ready = await fetch(`http://127.0.0.1:${target.opsPort}/readyz`);
      assert.equal(ready.status, 200);
    } finally {
      await target.close();
    }
  });

  test('without DATABASE_POOLER=transaction Assent refuses to start, naming the setting, whether PgBouncer refuses its session settings or drops them', async () => {
    const lenient = await startPgBouncer(database.url, { ignoreStartupParameters: ['statement_timeout'] });
    const dataDir = await mkdtemp(path.join(tmpdir(), 'assent-pooler-'));
    try {
      // At once, each with a data folder of its own (both make dev certificates before reaching the database).
      await Promise.all(
        [bouncer.url, lenient.url].map(async (url, index) => {
          const started = await launchAssent({
            DATABASE_URL: url,
            DEV_MODE: 'true',
            SEED_DEMO: 'false',
            DATA_DIR: path.join(dataDir, String(index)),
            PORT: String(await freePort()),
          });
          await assert.rejects(started.ready, /DATABASE_POOLER=transaction/, url);
          assert.equal(await started.exited, 1);
        }),
      );
    } finally {
      await lenient.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('migrations from processes starting together take turns through the pooler and leave no lock behind', async () => {
    const fresh = await createTestDatabase();
    const pooled = await startPgBouncer(fresh.url);
    const pools: Db[] = [];
    try {
      for (let index = 0; index < 3; index += 1)
        pools.push(await connectDatabase({ databaseUrl: pooled.url, dataDir: '', pooler: 'transaction' }));
      const applied = await Promise.all(pools.slice(0, 2).map((db) => migrateToLatest(db)));
      assert.ok(applied.flat().length > 0, 'the migrations ran once');
      assert.ok(
        applied.some((names) => names.length === 0),
        'the other found them done',
      );
      // A later start neither waits on a lock left on a pooled session nor finds anything to do.
      assert.deepEqual(await migrateToLatest(pools[2]!), []);
      const { rows } = await sql<{ held: number }>`select count(*)::int as held from pg_locks where locktype = 'advisory'`.execute(
        pools[2]!,
      );
      assert.equal(rows[0]!.held, 0, 'no advisory lock held');
    } finally {
      await Promise.all(pools.map((db) => db.destroy()));
      await pooled.stop();
      await fresh.drop();
    }
  });

  test('the client cache: LISTEN through the pooler hears nothing, so behind it the cache polls the change count', async () => {
    const db = await connectDatabase({ databaseUrl: bouncer.url, dataDir: '', pooler: 'transaction' });
    const logger = createLogger('silent');
    const polling = pollingClientCache(db, logger, { pollMs: 100 });
    const listening = listeningClientCache(bouncer.url, logger, { reconnectMs: 100 });
    try {
      const loads = { polling: 0, listening: 0 };
      const read = async (which: 'polling' | 'listening') =>
        (which === 'polling' ? polling : listening).get('tpp-watched', async () => {
          loads[which] += 1;
          return { loaded: loads[which] };
        });
      // Both serve from memory once ready (the first poll read the count; LISTEN ran).
      for (let waited = 0; ; waited += 100) {
        const earlier = { ...loads };
        await read('polling');
        await read('listening');
        await read('polling');
        await read('listening');
        if (loads.polling === earlier.polling + 1 && loads.listening === earlier.listening + 1) break;
        assert.ok(waited < 10_000, 'both caches serve from memory');
        await sleep(100);
      }
      const earlier = { ...loads };
      // A change committed by another connection, which the triggers count and notify.
      await sql`update client_change_count set changes = changes + 1`.execute(db);
      await sql`select pg_notify(${CLIENT_CHANGED_CHANNEL}, 'tpp-watched')`.execute(db);
      await sleep(1000);
      await read('polling');
      await read('listening');
      assert.equal(loads.polling, earlier.polling + 1, 'the polling cache dropped the entry within its poll');
      assert.equal(loads.listening, earlier.listening, 'the notification never reached the listening connection');
    } finally {
      await polling.close();
      await listening.close();
      await db.destroy();
    }
  });
});

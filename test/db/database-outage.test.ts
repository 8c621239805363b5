import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { type Agent, fetch } from 'undici';
import { connectDatabase, type Db } from '../../src/db/connect.ts';
import { type AssentProcess, launchAssent, spawnAssent } from '../support/assent-process.ts';
import { freePort } from '../support/free-port.ts';
import { tlsAgent, type TestAssent } from '../support/assent.ts';
import { ACCOUNT_ACCESS, ConsentApiClient } from '../support/consent-api.ts';
import { TestResourceServer } from '../support/resource-server.ts';
import { startPostgresCluster, type PostgresCluster } from '../support/postgres-cluster.ts';
import { createTestTpp, type TestTpp } from '../support/tpp.ts';

/** Generous: a hang shows up as this timeout; a prompt answer on a loaded machine comes well within it. */
const HANG = 30_000;

interface Answer {
  status: number;
  type: string;
  body: string;
}

async function answer(url: string, init: Parameters<typeof fetch>[1] & { dispatcher: Agent }): Promise<Answer> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(HANG) });
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text() };
}

/** Polls /readyz until it reads 200 (the database came back and the process noticed by itself). */
async function untilReady(base: string, agent: Agent) {
  for (let waited = 0; waited < 120_000; waited += 250) {
    const { status } = await answer(`${base}/readyz`, { dispatcher: agent }).catch(() => ({ status: 0 }));
    if (status === 200) return;
    await sleep(250);
  }
  assert.fail('/readyz did not return to 200 after the database came back');
}

function refused(port: number) {
  return new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('losing Postgres (a private cluster, restarted and stopped for real)', () => {
  let cluster: PostgresCluster;
  let dataDir: string;
  let db: Db;
  let assent: AssentProcess;
  let issuer: string;
  let ca: { certPem: string; keyPem: string };
  let agent: Agent;
  let tpp: TestTpp;
  let env: Record<string, string>;

  before(async () => {
    cluster = await startPostgresCluster();
    dataDir = await mkdtemp(path.join(tmpdir(), 'assent-outage-'));
    const port = await freePort();
    issuer = `https://localhost:${port}`;
    // Background work every second, so the sweeps and the key refresh also run into the outage.
    const background = { SWEEP_INTERVAL: '1', KEY_REFRESH_INTERVAL: '1' };
    env = {
      DATABASE_URL: cluster.url,
      DATA_DIR: dataDir,
      DEV_MODE: 'true',
      SEED_DEMO: 'false',
      ISSUER: issuer,
      PORT: String(port),
      ...background,
    };
    assent = await spawnAssent(env);
    db = await connectDatabase({ databaseUrl: cluster.url, dataDir });
    ca = {
      certPem: await readFile(path.join(dataDir, 'tls', 'ca.pem'), 'utf8'),
      keyPem: await readFile(path.join(dataDir, 'tls', 'ca-key.pem'), 'utf8'),
    };
    agent = tlsAgent(ca.certPem);
    tpp = await createTestTpp({ issuer, ca, db }, { auth: 'tls_client_auth' });
  });
  after(async () => {
    await assent?.stop();
    await db?.destroy();
    cluster?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const tokenRequest = () =>
    answer(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'accounts', client_id: tpp.clientId }).toString(),
      dispatcher: tpp.agent,
    });

  test('pg_ctl restart -m fast under load: the process lives, answers every request promptly in JSON, recovers alone', async () => {
    const restart = { done: false };
    const answers: Answer[] = [];
    const load = Array.from({ length: 4 }, async () => {
      while (!restart.done) answers.push(await tokenRequest(), await answer(`${issuer}/readyz`, { dispatcher: agent }));
    });
    // The restart must find the process's connections open: wait until the load has been answered (on a
    // slow machine 500 ms could pass before the first request reached the pool).
    for (let waited = 0; !answers.some(({ status }) => status === 200); waited += 100) {
      assert.ok(waited < 30_000, 'the load is answered before the restart');
      await sleep(100);
    }
    await sleep(500);
    await cluster.restart();
    await sleep(1000);
    restart.done = true;
    await Promise.all(load);

    assert.equal(assent.child.exitCode, null, 'the process survived the restart');
    assert.ok(
      answers.some(({ status }) => status === 503),
      'the load ran into the restart',
    );
    const lost = assent.logs.filter((entry) => entry.msg === 'database connection lost');
    assert.ok(lost.length > 0, 'the lost connections were logged');
    assert.ok(
      lost.some((entry) => (entry.err as { code?: string }).code === '57P01'),
      'with the SQLSTATE (admin shutdown) readable, not redacted',
    );
    for (const { status, type, body } of answers) {
      assert.ok([200, 503].includes(status), `status ${status}: ${body}`);
      assert.match(type, /^application\/json/, `never text/plain: ${body}`);
      if (status === 503 && !body.includes('not_ready')) assert.equal(JSON.parse(body).error, 'temporarily_unavailable');
    }

    await untilReady(issuer, agent);
    const afterwards = await tokenRequest();
    assert.equal(afterwards.status, 200, afterwards.body);
  });

  test('Postgres stopped: every protocol answers 503 in its own shape, /readyz 503; all works again once it is back', async () => {
    const api = await ConsentApiClient.create({ issuer, db, ca } as TestAssent, tpp, 'accounts');
    const created = await api.call('POST', ACCOUNT_ACCESS, { body: { Data: { Permissions: ['ReadAccountsBasic'] }, Risk: {} } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const bank = await TestResourceServer.create({ issuer, db, ca } as TestAssent);

    await cluster.stopServer();
    try {
      const token = await tokenRequest();
      assert.equal(token.status, 503, token.body);
      assert.match(token.type, /^application\/json/);
      assert.equal(JSON.parse(token.body).error, 'temporarily_unavailable');

      // PAR passes the rate limit first, which needs the database too (it ran before the error handler).
      const par = await answer(`${issuer}/request`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: tpp.clientId, request: 'x' }).toString(),
        dispatcher: tpp.agent,
      });
      assert.equal(par.status, 503, par.body);
      assert.match(par.type, /^application\/json/);
      assert.equal(JSON.parse(par.body).error, 'temporarily_unavailable');

      const consent = await api.call('GET', `${ACCOUNT_ACCESS}/${consentId}`);
      assert.equal(consent.status, 503, JSON.stringify(consent.body));
      assert.equal((consent.body as { Code: string }).Code, '503 ServiceUnavailable');
      assert.equal((consent.body as { Errors: { ErrorCode: string }[] }).Errors[0]!.ErrorCode, 'UK.OBIE.UnexpectedError');
      const bankView = await bank.call('GET', `/bank/consents/${consentId}`);
      assert.equal(bankView.status, 503, JSON.stringify(bankView.body));
      assert.equal((bankView.body as { Code: string }).Code, '503 ServiceUnavailable');

      // A customer page that must read the database: the dashboard resolving its session cookie.
      const page = await answer(`${issuer}/dashboard`, {
        headers: { accept: 'text/html', cookie: '__Host-assent-dashboard=a-session-id' },
        dispatcher: agent,
      });
      assert.equal(page.status, 503, page.body);
      assert.match(page.type, /^text\/html/);
      assert.match(page.body, /temporarily unavailable\. Please try again/);
      // The same session read behind the customer's JSON API (a bank app's device endpoint) answers JSON.
      const device = await answer(`${issuer}/dashboard/api/decoupled-requests`, {
        headers: { accept: 'application/json', cookie: '__Host-assent-dashboard=a-session-id' },
        dispatcher: agent,
      });
      assert.equal(device.status, 503, device.body);
      assert.match(device.type, /^application\/json/);
      assert.equal(JSON.parse(device.body).error, 'temporarily_unavailable');

      const ready = await answer(`${issuer}/readyz`, { dispatcher: agent });
      assert.equal(ready.status, 503);
      assert.equal(JSON.parse(ready.body).checks.database, false);
      assert.equal((await answer(`${issuer}/healthz`, { dispatcher: agent })).status, 200, 'alive while the database is gone');
      const failedInBackground = () =>
        ['sweep of expired rows failed', 'signing key refresh failed'].every((msg) => assent.logs.some((entry) => entry.msg === msg));
      for (let waited = 0; !failedInBackground(); waited += 100) {
        assert.ok(waited < 30_000, 'the background sweeps and key refresh ran during the outage');
        await sleep(100);
      }
      assert.equal(assent.child.exitCode, null, 'background failures are logged, not fatal');
    } finally {
      await cluster.startServer();
    }

    await untilReady(issuer, agent);
    assert.equal((await tokenRequest()).status, 200);
    const again = await api.call('GET', `${ACCOUNT_ACCESS}/${consentId}`);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal((await bank.call('GET', `/bank/consents/${consentId}`)).status, 200);
  });

  test('Postgres not answering new connections (postmaster frozen): 503 after the connection timeout, never a hang', async () => {
    await sql`select 1`.execute(db); // the test's own connection stays open to do the cutting
    cluster.freeze();
    try {
      // Every connection the server holds is cut, so each request needs a new one from the frozen postmaster.
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where pid <> pg_backend_pid() and backend_type = 'client backend'`.execute(
        db,
      );
      const [token, ready] = await Promise.all([tokenRequest(), answer(`${issuer}/readyz`, { dispatcher: agent })]);
      assert.equal(token.status, 503, token.body);
      assert.equal(JSON.parse(token.body).error, 'temporarily_unavailable');
      assert.equal(ready.status, 503, ready.body);
    } finally {
      cluster.thaw();
    }
    await untilReady(issuer, agent);
    assert.equal((await tokenRequest()).status, 200);
  });

  test('start-up with Postgres down: retries with backoff and says so, listens only once ready', async () => {
    await cluster.stopServer();
    const port = await freePort();
    let second: AssentProcess | undefined;
    try {
      second = await launchAssent({ ...env, PORT: String(port) });
      const started = second;
      for (
        let waited = 0;
        started.logs.filter((entry) => entry.msg === 'database unreachable at start-up, retrying').length < 2;
        waited += 100
      ) {
        assert.ok(waited < 60_000, 'no retry was logged');
        assert.equal(started.child.exitCode, null, 'the process did not exit on the first refusal');
        await sleep(100);
      }
      assert.ok(await refused(port), 'not listening while the database is unreachable');
    } finally {
      await cluster.startServer();
    }
    await second!.ready;
    assert.ok(second!.logs.some((entry) => entry.msg === 'database reachable'));
    const health = await answer(`https://localhost:${port}/readyz`, { dispatcher: agent });
    assert.equal(health.status, 200, health.body);
    await second!.stop();
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Client } from 'pg';
import { Agent, fetch } from 'undici';
import { hermeticEnv, launchAssent } from './support/assent-process.ts';
import { createTestDatabase } from './support/database.ts';

const MAIN = 'src/main.ts';

/** A request left unanswered this long has hung (a prompt answer takes milliseconds, even on a busy machine). */
const HANG = 20_000;

type Probe = 'refused' | 'answered' | 'hung';

test('connections made while the server starts are refused or answered, never left hanging', async () => {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'assent-startup-'));
  // The probes only care whether anything answers: the dev CA does not exist yet when they start.
  const agent = new Agent({ connect: { rejectUnauthorized: false }, pipelining: 0 });
  const assent = await launchAssent({ DATABASE_URL: database.url, DATA_DIR: dataDir, DEV_MODE: 'true', SEED_DEMO: 'false' });
  try {
    const state = { ready: false };
    void assent.ready.then(() => {
      state.ready = true;
    });
    const probes: Promise<Probe>[] = [];
    // One fresh connection every 20 ms from launch until the process reports ready, and a few after.
    for (let after = 0; !state.ready || after < 5; after += state.ready ? 1 : 0) {
      assert.equal(assent.child.exitCode, null, 'the server exited during start-up');
      probes.push(
        fetch(`https://127.0.0.1:${assent.port}/healthz`, {
          dispatcher: agent,
          signal: AbortSignal.timeout(HANG),
          headers: { connection: 'close' },
        }).then(
          (response) => (response.status === 200 ? 'answered' : assert.fail(`status ${response.status}`)),
          // A reset is a refusal too: start-up's port check listens for an instant (listen-check.ts
          // checkPortsFree), and a connection that lands in that instant is reset when it closes.
          (error: Error & { cause?: { code?: string } }) =>
            error.cause?.code === 'ECONNREFUSED' || error.cause?.code === 'ECONNRESET'
              ? 'refused'
              : error.name === 'TimeoutError'
                ? 'hung'
                : Promise.reject(error),
        ),
      );
      await sleep(20);
    }
    const outcomes = await Promise.all(probes);
    assert.equal(outcomes.filter((outcome) => outcome === 'hung').length, 0, `probes that hung: ${outcomes.join(' ')}`);
    assert.ok(outcomes.includes('refused'), 'some probes ran before the listener opened');
    assert.equal(outcomes.at(-1), 'answered');
    // The JSON line stays for machines (.ci/run greps it); a person reads where to go.
    assert.ok(assent.logs.some((entry) => entry.msg === 'Assent is ready' && entry.issuer === `https://localhost:${assent.port}`));
    assert.equal(assent.text[0], `Assent is ready at https://localhost:${assent.port} (development mode, postgres)`);
    assert.ok(assent.text.includes(`  customer dashboard: https://localhost:${assent.port}/dashboard`), assent.text.join('\n'));
  } finally {
    await assent.stop();
    await agent.close();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a port another process holds stops start-up with one line naming the setting, before any migration or file', async () => {
  const database = await createTestDatabase();
  const holder = createServer();
  const held = await new Promise<number>((resolve) => holder.listen(0, '127.0.0.1', () => resolve((holder.address() as AddressInfo).port)));
  try {
    for (const variable of ['PORT', 'OPS_PORT', 'ADMIN_PORT']) {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'assent-startup-'));
      try {
        const env = hermeticEnv({
          DATABASE_URL: database.url,
          DATA_DIR: dataDir,
          DEV_MODE: 'true',
          PORT: '0',
          LOG_LEVEL: 'silent',
          [variable]: String(held),
        });
        const failure = await promisify(execFile)(process.execPath, [MAIN], { env, timeout: 60_000 }).then(
          () => assert.fail(`start-up succeeded with ${variable} taken`),
          (error: { code: number; stderr: string }) => error,
        );
        assert.equal(failure.code, 1, variable);
        assert.equal(
          failure.stderr,
          `${variable}=${held}: 127.0.0.1:${held} is in use by another process; stop it, or set ${variable} to a free port\n`,
        );
        assert.deepEqual(await readdir(dataDir), [], `${variable}: no key, certificate or token written`);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    }
    const client = new Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query<{ tables: string }>(
      "select count(*) as tables from information_schema.tables where table_schema = 'public'",
    );
    await client.end();
    assert.equal(Number(rows[0]!.tables), 0, 'nothing migrated, nothing seeded');
  } finally {
    holder.close();
    await database.drop();
  }
});

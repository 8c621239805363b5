import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { appendAuditEvent, auditHistory } from '../../src/audit/audit-trail.ts';
import { render } from '../../src/cli/output.ts';
import { loadConfig } from '../../src/config.ts';
import { findCustomer } from '../../src/customers/customer-service.ts';
import type { Db } from '../../src/db/connect.ts';
import { createLogger } from '../../src/logger.ts';
import { type RunningAssent, startAssent } from '../../src/server.ts';
import type { TestAssent } from '../support/assent.ts';
import { hermeticEnv } from '../support/assent-process.ts';
import { migratedTestDatabase } from '../support/migrated-db.ts';
import { callRegistration, dpopClientMetadata, issueSsa, tppFromRegistration } from '../support/onboarding.ts';

const run = promisify(execFile);

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run admin -- ...` as an operator runs it, with only the given settings. */
async function admin(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['src/cli/admin.ts', ...args], {
      env: hermeticEnv({ LOG_LEVEL: 'silent', ...env }),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const isInvalidClient = (error: oidc.ResponseBodyError) => error.error === 'invalid_client';

describe('admin CLI beside a running embedded (PGlite) server', () => {
  let dataDir: string;
  let running: RunningAssent | undefined;
  let assent: TestAssent;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'assent-admin-embedded-'));
    const config = loadConfig({
      DATA_DIR: dataDir,
      PORT: '0',
      ADMIN_PORT: '0',
      SEED_DEMO: 'false',
      LOG_LEVEL: 'silent',
      RATE_LIMIT_REGISTRATION: 'off',
      RATE_LIMIT_TOKEN: 'off',
    });
    running = await startAssent(config, createLogger('silent'));
    const ca = {
      certPem: await readFile(path.join(dataDir, 'tls', 'ca.pem'), 'utf8'),
      keyPem: await readFile(path.join(dataDir, 'tls', 'ca-key.pem'), 'utf8'),
    };
    assent = { ...running, dataDir, databaseUrl: '', ca, stop: async () => {} };
  });
  after(async () => {
    await running?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('customer:create goes through the admin API: the server sees the customer at once; a taken username is one line', async () => {
    const created = await admin({ DATA_DIR: dataDir }, 'customer:create', '--username', 'carol', '--name', 'Carol', '--json');
    assert.equal(created.code, 0, created.stderr);
    const printed = JSON.parse(created.stdout) as { id: string; username: string; password: string };
    const seen = await findCustomer(running!.db, 'carol');
    assert.equal(seen?.id, printed.id, "the running server's own database holds the customer");
    const [event] = await auditHistory(running!.db, 'customer', printed.id);
    assert.deepEqual(
      event?.actor,
      { kind: 'operator', id: `admin-token:${userInfo().username}` },
      'the name the CLI claims over the admin token',
    );

    const taken = await admin({ DATA_DIR: dataDir }, 'customer:create', '--username', 'carol', '--name', 'Carol again');
    assert.equal(taken.code, 1);
    assert.equal(taken.stderr, 'error: username carol is taken\n', 'one clear line');
  });

  test('tpp:suspend beside the running server stops token issuance at once', async () => {
    const kit = await issueSsa(assent, { orgId: 'org-embedded' });
    const registered = await callRegistration(assent, kit.agent, { json: dpopClientMetadata(kit) });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const tpp = await tppFromRegistration(assent, kit, String(registered.body.client_id));
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: dpop });

    const suspended = await admin({ DATA_DIR: dataDir }, 'tpp:suspend', tpp.clientId, '--reason', 'licence withdrawn', '--json');
    assert.equal(suspended.code, 0, suspended.stderr);
    assert.equal((JSON.parse(suspended.stdout) as { status: string }).status, 'suspended');
    await assert.rejects(oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: dpop }), isInvalidClient);
  });

  test('with the server stopped, the CLI opens the database itself: the customer created beside the server is there', async () => {
    await running!.close();
    running = undefined;
    const shown = await admin({ DATA_DIR: dataDir }, 'customer:show', 'carol', '--json');
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal((JSON.parse(shown.stdout) as { username: string }).username, 'carol');
    assert.ok(!(await readdir(dataDir)).includes('pglite.lock'), 'the CLI released its lock');
    assert.ok(!(await readdir(dataDir)).includes('admin-endpoint.json'), 'the stopped server withdrew its endpoint');
  });
});

test('the CLI never opens an embedded database that a live process holds: one line says what to do', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'assent-admin-locked-'));
  try {
    // This test process stands in for a server whose admin API the CLI cannot find.
    await writeFile(path.join(dataDir, 'pglite.lock'), JSON.stringify({ pid: process.pid, role: 'server' }));
    const result = await admin({ DATA_DIR: dataDir }, 'customer:create', '--username', 'dave', '--name', 'Dave');
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`in use by a running Assent server \\(pid ${process.pid}\\).*stop it`));
    assert.deepEqual((await readdir(dataDir)).toSorted(), ['pglite.lock'], 'no database was opened or created');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

describe('admin audit:verify and audit:export (no server: the CLI reads Postgres itself)', () => {
  let db: Db;
  let url: string;
  let drop: () => Promise<void>;
  const consentA = '11111111-1111-4111-8111-111111111111';
  const consentB = '22222222-2222-4222-8222-222222222222';
  let env: Record<string, string>;

  before(async () => {
    ({ db, url, drop } = await migratedTestDatabase());
    env = { DATABASE_URL: url, DEV_MODE: 'true', DATA_DIR: await mkdtemp(path.join(tmpdir(), 'assent-admin-audit-')) };
    for (const subjectId of [consentA, consentB]) {
      for (const event of ['consent.created', 'consent.authorised', 'consent.revoked']) {
        await db
          .transaction()
          .execute((trx) => appendAuditEvent(trx, { subjectType: 'consent', subjectId, event, actor: { kind: 'system', id: null } }));
      }
    }
  });
  after(async () => {
    await drop?.();
    await rm(env.DATA_DIR!, { recursive: true, force: true });
  });

  test('an intact trail verifies (exit 0); export gives one JSON line per event with its hash', async () => {
    const verified = await admin(env, 'audit:verify', '--json');
    assert.equal(verified.code, 0, verified.stderr);
    assert.deepEqual(JSON.parse(verified.stdout), { valid: true, chains: 2, events: 6, broken: [] });
    const exported = await admin(env, 'audit:export', '--consent', consentA);
    assert.equal(exported.code, 0, exported.stderr);
    const lines = exported.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; hash: string; prevHash: string | null });
    assert.deepEqual(
      lines.map((line) => line.event),
      ['consent.created', 'consent.authorised', 'consent.revoked'],
    );
    assert.equal(lines[1]?.prevHash, lines[0]?.hash, 'the export carries the chain links');
    assert.equal((await admin(env, 'audit:export')).code, 2, 'an export needs a consent or a period');
  });

  test('a row tampered with behind the trigger: audit:verify exits 1 naming the chain and event; --consent checks one chain', async () => {
    await db.connection().execute(async (connection) => {
      await sql`set session_replication_role = replica`.execute(connection);
      await connection
        .updateTable('audit_event')
        .set({ actor_id: 'forger' })
        .where('subject_id', '=', consentA)
        .where('seq', '=', 2)
        .execute();
      await sql`set session_replication_role = origin`.execute(connection);
    });
    const all = await admin(env, 'audit:verify');
    assert.equal(all.code, 1);
    assert.equal(all.stderr, `audit trail broken: consent ${consentA} at event 2\n`);
    assert.equal((await admin(env, 'audit:verify', '--consent', consentA)).code, 1);
    assert.equal((await admin(env, 'audit:verify', '--consent', consentB)).code, 0, 'the other chain is intact');
  });
});

test('CLI manners: help for the tool and each command, usage errors exit 2', async () => {
  const env = { DATA_DIR: '/nonexistent-assent-data' };
  for (const args of [['help'], ['--help'], ['-h']]) {
    const result = await admin(env, ...args);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /customer:create[\s\S]*audit:verify[\s\S]*rs:disable/);
  }
  for (const args of [
    ['help', 'tpp:suspend'],
    ['tpp:suspend', '--help'],
    ['tpp:suspend', '-h'],
  ]) {
    const result = await admin(env, ...args);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^usage: npm run admin -- tpp:suspend <client-id> --reason <value>/);
  }
  const search = await admin(env, 'help', 'consent:search');
  assert.match(search.stdout, /\n  --customer <value>  customer id or username\n/);
  assert.match(search.stdout, /\n  --status <value> +one of AwaitingAuthorisation, Authorised, Rejected, Revoked, Expired, Consumed\n/);
  assert.match(search.stdout, /\n  --type <value> +one of account_access, domestic_payment, funds_confirmation, domestic_vrp\n/);
  assert.match(search.stdout, /\n  --from <value> +created at or after: a day \(2026-12-01\), .*today or yesterday/);
  assert.match(search.stdout, /\n  --limit <value> +a number from 1 to 1000; default 100\n/);
  assert.match((await admin(env, 'help', 'tpp:suspend')).stdout, /\n  --reason <value>  why, in words, for the audit trail/);
  const unknown = await admin(env, 'customer:delete-everything');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command: customer:delete-everything/);
  const missing = await admin(env, 'tpp:suspend', 'some-client');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^--reason: is required\nusage: /);
  const badOption = await admin(env, 'customer:list', '--colour', 'blue');
  assert.equal(badOption.code, 2);
  assert.equal((await admin(env)).code, 2, 'no command at all is a usage error');
});

test('a list fits the terminal: nested values point to --json, long ones are cut; --json and show keep everything', () => {
  const consent = {
    id: '6f1c2d9e-8a57-4f0b-9a51-3c1f4b7e2d10',
    type: 'domestic_vrp',
    status: 'Authorised',
    clientId: 'a3f9c1e2-5b7d-4e8a-9c0f-1d2e3f4a5b6c',
    permissions: ['ReadAccountsDetail', 'ReadBalances', 'ReadTransactionsDetail'],
    vrp: { controlParameters: { PeriodicLimits: [{ Amount: '1000.00' }] } },
    createdAt: new Date('2026-12-01T09:30:00Z'),
  };
  const lines = render([consent, { ...consent, id: 'short' }], { json: false, jsonl: false, width: 80 });
  assert.ok(
    lines.every((line) => line.length <= 80),
    lines.join('\n'),
  );
  assert.match(lines[0]!, /^id +type +status +clientId +permissions +vrp +createdAt$/);
  assert.match(lines[1]!, /\(see --/);
  assert.ok(!lines.join('\n').includes('PeriodicLimits'), 'no nested JSON in a list');
  assert.ok(lines[1]!.includes('…'), 'a long value is cut, visibly');
  assert.ok(render([consent], { json: true, jsonl: false, width: 80 })[0]!.includes('"PeriodicLimits"'));
  assert.ok(
    render(consent, { json: false, jsonl: false, width: 80 }).some((line) => line.includes('PeriodicLimits')),
    'show prints the whole record',
  );
  assert.ok(
    render([consent], { json: false, jsonl: false, width: undefined })[1]!.includes(consent.clientId),
    'not a terminal: nothing cut',
  );
});

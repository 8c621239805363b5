import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../src/config.ts';
import { hermeticEnv } from './support/assent-process.ts';
import { freePort } from './support/free-port.ts';

const MAIN = 'src/main.ts';

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail(`${JSON.stringify(env)} was accepted`);
}

test('each configuration error is one line naming the variable and the fix', () => {
  assert.equal(
    configError({ DEV_MODE: 'true', ISSUER: 'http://auth.bank.example' }),
    'ISSUER must be https (the https URL TPPs use, e.g. https://auth.bank.example) (got "http://auth.bank.example")',
  );
  assert.equal(configError({ PORT: 'eighty' }), 'PORT must be a port number (0-65535) (got "eighty")');
  assert.equal(configError({ DEV_MODE: 'yes' }), 'DEV_MODE must be true or false (got "yes")');
  assert.equal(
    configError({ DATABASE_URL: 'mysql://root:password@db/assent' }),
    'DATABASE_URL must be a postgres:// URL, e.g. postgres://user:password@host:5432/assent',
    'the value (with its password) is not repeated',
  );
  assert.equal(
    configError({ DEV_MODE: 'true', TLS_CERT_FILE: '/nowhere/server.pem', TLS_KEY_FILE: '/nowhere/server-key.pem' }),
    'TLS_CERT_FILE: cannot read /nowhere/server.pem (no such file)\nTLS_KEY_FILE: cannot read /nowhere/server-key.pem (no such file)',
  );
  assert.equal(
    configError({ DEV_MODE: 'true', SIGNING_KEYS_FILE: 'missing-keys.json' }),
    `SIGNING_KEYS_FILE: cannot read ${path.resolve('missing-keys.json')} (no such file)`,
  );
  assert.equal(
    configError({ ADMIN_URL: 'admin.bank.example' }),
    'ADMIN_URL must be the admin API base URL, e.g. https://127.0.0.1:8444 (got "admin.bank.example")',
    'not a TypeError from inside the https check',
  );
  assert.equal(
    configError({ AUTHORIZATION_CODE_TTL: '120' }),
    'AUTHORIZATION_CODE_TTL must be at most 60 seconds: the FAPI 2.0 Security Profile lets an authorization code live no longer (got "120")',
  );
  assert.equal(configError({ DPOP_NONCES: 'optional' }), 'DPOP_NONCES must be required or off (got "optional")');
  assert.equal(
    configError({ SCA_IDLE_TIMEOUT: '600' }),
    'SCA_IDLE_TIMEOUT must be at most 300 seconds: PSD2 RTS article 4(3)(d) ends an authenticated session after at most 5 minutes without activity (got "600")',
  );
  assert.equal(
    configError({ BANK_SUPPORT_URL: 'http://bank.example/help' }),
    'BANK_SUPPORT_URL must be an https URL (customers follow it from every page, e.g. https://bank.example/help) (got "http://bank.example/help")',
  );
  assert.equal(configError({ PORT: '9000', OPS_PORT: '9000' }), 'OPS_PORT and PORT are both 9000: each listener needs a port of its own');
  assert.equal(
    configError({ OPS_PORT: '8444' }),
    'ADMIN_PORT (by default) and OPS_PORT are both 8444: each listener needs a port of its own',
    'dev mode opens the admin API on its default port',
  );
  assert.equal(
    loadConfig({
      DATABASE_URL: 'postgres://assent@db/assent',
      TLS_TERMINATED_BY_PROXY: 'true',
      TRUSTED_PROXIES: '10.0.0.1',
      ISSUER: 'https://auth.bank.example',
      TOTP_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
      OPS_PORT: '8444',
    }).ops.port,
    8444,
    'no admin credential: no admin listener to collide with',
  );
  const both = configError({ PORT: '-1', SWEEP_INTERVAL: '0' }).split('\n');
  assert.deepEqual(
    both,
    ['PORT must be a port number (0-65535) (got "-1")', 'SWEEP_INTERVAL must be more than 0 seconds (got "0")'],
    'one line per variable',
  );
});

function databaseSettings(env: Record<string, string>) {
  const { pooler, preparedStatements } = loadConfig({ DATABASE_URL: 'postgres://assent@db/assent', DEV_MODE: 'true', ...env });
  return { pooler, preparedStatements };
}

test('DATABASE_POOLER: session or transaction; behind a transaction pooler statements are unnamed unless asked for', () => {
  assert.equal(configError({ DATABASE_POOLER: 'statement' }), 'DATABASE_POOLER must be session or transaction (got "statement")');
  assert.deepEqual(databaseSettings({}), { pooler: 'session', preparedStatements: true });
  assert.deepEqual(databaseSettings({ DATABASE_POOLER: 'transaction' }), { pooler: 'transaction', preparedStatements: false });
  // PgBouncer 1.21+ with max_prepared_statements keeps named statements across its transaction pooling.
  assert.deepEqual(databaseSettings({ DATABASE_POOLER: 'transaction', DATABASE_PREPARED_STATEMENTS: 'true' }), {
    pooler: 'transaction',
    preparedStatements: true,
  });
});

test('DATABASE_URL alone does not silently switch to production: the error and the mode say why', () => {
  const message = configError({ DATABASE_URL: 'postgres://assent@db/assent' });
  assert.match(
    message,
    /^TLS_CERT_FILE and TLS_KEY_FILE are required in production mode \(DATABASE_URL is set and DEV_MODE is not; for development on Postgres set DEV_MODE=true\)/,
  );
  assert.deepEqual(loadConfig({ DATABASE_URL: 'postgres://assent@db/assent', DEV_MODE: 'true' }).mode, {
    name: 'development',
    reason: 'DEV_MODE=true',
  });
  assert.deepEqual(loadConfig({}).mode, { name: 'development', reason: 'DATABASE_URL is not set (embedded PGlite)' });
});

test('an unreachable database is retried, then stops start-up with one line naming DATABASE_URL (no migration stack)', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'assent-config-'));
  const closedPort = await freePort();
  try {
    const env = hermeticEnv({
      DATABASE_URL: `postgres://assent:secret@127.0.0.1:${closedPort}/assent`,
      DEV_MODE: 'true',
      DATA_DIR: dataDir,
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_STARTUP_WAIT: '2',
    });
    const failure = await promisify(execFile)(process.execPath, [MAIN], { env, timeout: 120_000 }).then(
      () => assert.fail('start-up succeeded without a database'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(failure.code, 1);
    assert.equal(
      failure.stderr,
      `cannot use the database in DATABASE_URL (postgres://assent:***@127.0.0.1:${closedPort}/assent): connection refused: is Postgres running and listening there?\n`,
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a BANK_TIME_ZONE Node knows and the database does not stops start-up with one line, before anything is served', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'assent-zone-'));
  try {
    // Node reads "+01:00" as UTC+1; Postgres reads an offset POSIX-style (UTC-1) and lists no zone by that name.
    const env = hermeticEnv({
      DATABASE_URL: process.env.DATABASE_URL!,
      DEV_MODE: 'true',
      DATA_DIR: dataDir,
      PORT: '0',
      LOG_LEVEL: 'silent',
      BANK_TIME_ZONE: '+01:00',
    });
    const failure = await promisify(execFile)(process.execPath, [MAIN], { env, timeout: 120_000 }).then(
      () => assert.fail('start-up succeeded with a time zone the database does not know'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(failure.code, 1);
    assert.equal(failure.stderr, 'BANK_TIME_ZONE must be a time zone the database knows by name, e.g. Europe/Berlin (got "+01:00")\n');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a DATA_DIR that is a file, under a file, read-only or impossible is one line, never a hang', async () => {
  const scratch = await mkdtemp(path.join(tmpdir(), 'assent-data-dir-'));
  const file = path.join(scratch, 'a-file');
  await writeFile(file, '');
  const readOnly = path.join(scratch, 'read-only');
  await mkdir(readOnly, { mode: 0o555 });
  const cases: [string, string][] = [
    [file, 'is a file, not a folder'],
    [path.join(file, 'data'), 'lies under a file, not a folder'],
    // Node's recursive mkdir never returns here: mkdir answers ENOENT although /proc exists.
    ['/proc/assent-data', 'cannot be created there'],
    // root writes through the mode bits, so only another user meets this one.
    ...(process.getuid?.() === 0 ? [] : [[path.join(readOnly, 'data'), 'is not writable by this user'] as [string, string]]),
  ];
  try {
    for (const [dataDir, why] of cases) {
      const env = hermeticEnv({ DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent' });
      const failure = await promisify(execFile)(process.execPath, [MAIN], { env, timeout: 60_000 }).then(
        () => assert.fail(`start-up succeeded with DATA_DIR=${dataDir}`),
        (error: { code: number | null; stderr: string }) => error,
      );
      assert.equal(failure.code, 1, `DATA_DIR=${dataDir}: exited (killed after 60 s means it hung)`);
      assert.equal(
        failure.stderr,
        `DATA_DIR=${dataDir} ${why}: set DATA_DIR to a folder this user can write (it holds the embedded database, dev keys and certificates)\n`,
      );
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});

test("tests are hermetic: the runner hands them none of the caller's Assent settings but DATABASE_URL", () => {
  const leaked = CONFIG_VARIABLES.filter((name) => name !== 'DATABASE_URL' && process.env[name] !== undefined);
  assert.deepEqual(leaked, [], 'an exported PORT or OPS_PORT would make spawned servers collide');
});

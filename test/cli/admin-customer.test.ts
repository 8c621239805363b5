import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { matchTotpStep } from '../../src/customers/totp.ts';
import type { Db } from '../../src/db/connect.ts';
import { migratedTestDatabase } from '../support/migrated-db.ts';

const run = promisify(execFile);

describe('admin CLI: customers and their authenticator', () => {
  let db: Db;
  let url: string;
  let drop: () => Promise<void>;
  let dataDir: string;
  before(async () => {
    ({ db, url, drop } = await migratedTestDatabase());
    dataDir = await mkdtemp(path.join(tmpdir(), 'assent-admin-'));
  });
  after(async () => {
    await drop?.();
    await rm(dataDir, { recursive: true, force: true });
  });

  const admin = (...args: string[]) =>
    run(process.execPath, ['src/cli/admin.ts', ...args], {
      env: { ...process.env, DATABASE_URL: url, DEV_MODE: 'true', DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
    });

  test('customer:create enrols TOTP and prints the otpauth URI once; customer:otp prints the current code', async () => {
    const created = JSON.parse((await admin('customer:create', '--username', 'cli-alice', '--name', 'Alice', '--json')).stdout) as Record<
      string,
      string
    >;
    assert.equal(created.username, 'cli-alice');
    const uri = new URL(created.otpauthUri!);
    const secret = uri.searchParams.get('secret')!;
    assert.match(secret, /^[A-Z2-7]{32}$/);

    const stored = await db.selectFrom('customer').select('totp_secret').where('username', '=', 'cli-alice').executeTakeFirstOrThrow();
    assert.match(stored.totp_secret ?? '', /^v1\./);
    assert.ok(!stored.totp_secret?.includes(secret), 'the secret is stored encrypted');

    const code = (await admin('customer:otp', 'cli-alice')).stdout.trim();
    assert.notEqual(matchTotpStep(secret, code), undefined, `${code} is a current code of the enrolled secret`);
    await assert.rejects(
      admin('customer:otp', 'nobody'),
      (error: { code: number; stderr: string }) => error.code === 1 && /no customer nobody/.test(error.stderr),
    );
  });

  test("customer:otp demo, embedded: the code comes from the demo credentials, without opening the server's PGlite", async () => {
    const embeddedDir = await mkdtemp(path.join(tmpdir(), 'assent-embedded-'));
    try {
      const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
      await mkdir(path.join(embeddedDir, 'demo'));
      await writeFile(path.join(embeddedDir, 'demo', 'customer.json'), JSON.stringify({ username: 'demo', totpSecret: secret }));
      const { DATABASE_URL: _unused, ...env } = process.env;
      const { stdout } = await run(process.execPath, ['src/cli/admin.ts', 'customer:otp', 'demo'], {
        env: { ...env, DEV_MODE: 'true', DATA_DIR: embeddedDir, LOG_LEVEL: 'silent' },
      });
      assert.notEqual(matchTotpStep(secret, stdout.trim()), undefined, `${stdout} is a current code of the demo secret`);
      assert.deepEqual(await readdir(embeddedDir), ['demo'], 'no embedded database was opened or created');
    } finally {
      await rm(embeddedDir, { recursive: true, force: true });
    }
  });
});

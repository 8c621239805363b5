import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connectDatabase, type Db } from '../../src/db/connect.ts';
import { KeysUnavailable, loadServerKeys } from '../../src/oidc/keys.ts';
import { migratedTestDatabase } from '../support/migrated-db.ts';

describe('server keys', () => {
  let db: Db;
  let url: string;
  let drop: () => Promise<void>;
  before(async () => ({ db, url, drop } = await migratedTestDatabase()));
  after(async () => {
    await drop?.();
  });

  test('outside dev mode no signing key is invented', async () => {
    await assert.rejects(loadServerKeys(db, { devMode: false, signingKeysFile: undefined }), KeysUnavailable);
    const signing = await db.selectFrom('server_secret').select('id').where('kind', '=', 'signing').execute();
    assert.equal(signing.length, 0);
  });

  test('concurrent first starts of several processes agree on one PS256 + ES256 set, reused later', async () => {
    const others = await Promise.all([1, 2, 3].map(() => connectDatabase({ databaseUrl: url, dataDir: '' })));
    try {
      const loaded = await Promise.all(others.map((other) => loadServerKeys(other, { devMode: true, signingKeysFile: undefined })));
      const kids = loaded.map((keys) =>
        keys.signing
          .map((key) => key.kid)
          .toSorted()
          .join(),
      );
      assert.equal(new Set(kids).size, 1);
      assert.deepEqual(loaded[0]!.signing.map((key) => key.alg).toSorted(), ['ES256', 'PS256']);
      assert.ok(loaded[0]!.signing.every((key) => typeof key.d === 'string'));
      const again = await loadServerKeys(db, { devMode: false, signingKeysFile: undefined });
      assert.equal(
        again.signing
          .map((key) => key.kid)
          .toSorted()
          .join(),
        kids[0],
      );
      assert.deepEqual(again.cookie, loaded[0]!.cookie);
    } finally {
      await Promise.all(others.map((other) => other.destroy()));
    }
  });

  test('SIGNING_KEYS_FILE must hold private keys', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'assent-keys-'));
    try {
      const file = path.join(folder, 'jwks.json');
      await writeFile(file, JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'public-only' }] }));
      await assert.rejects(loadServerKeys(db, { devMode: false, signingKeysFile: file }), KeysUnavailable);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

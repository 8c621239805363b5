import { randomBytes } from 'node:crypto';
import type { Db } from '../db/connect.ts';
import { insertServerSecrets, lockServerSecrets, newestSecretOf } from '../store/server-secrets.ts';

/**
 * The AES-256 key for TOTP secrets at rest: TOTP_ENCRYPTION_KEY in production; in dev mode a key
 * generated once per database beside the other dev secrets, so the server and the admin CLI agree.
 */
export async function loadTotpKey(db: Db, options: { devMode: boolean; configured: Buffer | undefined }): Promise<Buffer> {
  if (options.configured) return options.configured;
  if (!options.devMode) throw new Error('TOTP_ENCRYPTION_KEY is required outside dev mode');
  return db.transaction().execute(async (trx) => {
    await lockServerSecrets(trx);
    const stored = await newestSecretOf(trx, 'totp');
    if (stored) return Buffer.from(String(stored.key), 'base64url');
    const key = randomBytes(32);
    await insertServerSecrets(trx, [
      { id: `totp-${Date.now()}`, kind: 'totp', material: JSON.stringify({ key: key.toString('base64url') }) },
    ]);
    return key;
  });
}

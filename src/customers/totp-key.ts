import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';

/**
 * The AES-256 key for TOTP secrets at rest: TOTP_ENCRYPTION_KEY in production; in dev mode a key
 * generated once per database beside the other dev secrets, so the server and the admin CLI agree.
 */
export async function loadTotpKey(db: Db, options: { devMode: boolean; configured: Buffer | undefined }): Promise<Buffer> {
  if (options.configured) return options.configured;
  if (!options.devMode) throw new Error('TOTP_ENCRYPTION_KEY is required outside dev mode');
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('assent.server_secret'))`.execute(trx);
    const stored = await trx.selectFrom('server_secret').select('material').where('kind', '=', 'totp').orderBy('created_at', 'desc').executeTakeFirst();
    if (stored) return Buffer.from(String(stored.material.key), 'base64url');
    const key = randomBytes(32);
    await trx.insertInto('server_secret').values({ id: `totp-${Date.now()}`, kind: 'totp', material: JSON.stringify({ key: key.toString('base64url') }) }).execute();
    return key;
  });
}

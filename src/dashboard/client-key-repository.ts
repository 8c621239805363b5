import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { Database } from '../db/schema.ts';

/** The newest of the dashboard client's private keys (a JWK), if one was generated. */
export function findNewestClientKey(db: Db) {
  return db.selectFrom('dashboard_client_key').select('private_jwk').orderBy('created_at', 'desc').executeTakeFirst();
}

/** Holds, until the transaction ends, the lock under which the dashboard client's key is generated. */
export async function lockClientKeyGeneration(trx: Transaction<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('assent.dashboard_client_key'))`.execute(trx);
}

export function insertClientKey(trx: Transaction<Database>, kid: string, privateJwk: object) {
  return trx
    .insertInto('dashboard_client_key')
    .values({ kid, private_jwk: JSON.stringify(privateJwk) })
    .execute();
}

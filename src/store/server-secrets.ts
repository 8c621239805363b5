import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { Database, ServerSecretKind } from '../db/schema.ts';

/** The key material the server keeps for itself (signing, cookie and TOTP keys), shared by every process. */

/** Serialises every writer of server_secret across processes (concurrent first starts agree on one set). */
export async function lockServerSecrets(trx: Transaction<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('assent.server_secret'))`.execute(trx);
}

/** Every stored secret, newest first. */
export function listServerSecrets(db: Db) {
  return db
    .selectFrom('server_secret')
    .select(['id', 'kind', 'material', 'created_at', 'activates_at', 'retires_at'])
    .orderBy('created_at', 'desc')
    .execute();
}

/** The kinds of which at least one secret is stored. */
export async function storedSecretKinds(trx: Transaction<Database>): Promise<Set<ServerSecretKind>> {
  const rows = await trx.selectFrom('server_secret').select('kind').groupBy('kind').execute();
  return new Set(rows.map((row) => row.kind));
}

/** The newest secret of one kind, if any. */
export async function newestSecretOf(trx: Transaction<Database>, kind: ServerSecretKind): Promise<Record<string, unknown> | undefined> {
  const row = await trx
    .selectFrom('server_secret')
    .select('material')
    .where('kind', '=', kind)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  return row?.material;
}

export async function insertServerSecrets(
  trx: Transaction<Database>,
  rows: readonly { id: string; kind: ServerSecretKind; material: string; activates_at?: Date }[],
): Promise<void> {
  if (rows.length > 0)
    await trx
      .insertInto('server_secret')
      .values([...rows])
      .execute();
}

/**
 * Sets every signing key's retirement to `retiresAt` unless it already retires earlier; returns their
 * ids. Keys already retiring later go at `retiresAt` too (a compromise cuts it short).
 */
export async function retireSigningKeysBy(trx: Transaction<Database>, retiresAt: Date): Promise<string[]> {
  const rows = await trx
    .updateTable('server_secret')
    .set({ retires_at: retiresAt })
    .where('kind', '=', 'signing')
    .where((eb) => eb.or([eb('retires_at', 'is', null), eb('retires_at', '>', retiresAt)]))
    .returning('id')
    .execute();
  return rows.map((row) => row.id);
}

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Transaction } from 'kysely';
import type { Db } from './connect.ts';
import type { Database } from './schema.ts';

/**
 * A transaction that code deeper in the call chain joins without being handed it: oidc-provider
 * writes through its adapter, and a registration must commit the provider's client together with
 * Assent's own rows (or nothing at all).
 */
const scope = new AsyncLocalStorage<Transaction<Database>>();

export function inAmbientTransaction<T>(db: Db, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.transaction().execute((trx) => scope.run(trx, () => work(trx)));
}

/** The ambient transaction when one is open on this call chain, else the given database. */
export function currentExecutor(db: Db): Db {
  return scope.getStore() ?? db;
}

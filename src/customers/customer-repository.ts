import type { Transaction } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { Database, NewCustomer } from '../db/schema.ts';

export function findCustomerByUsername(db: Db, username: string) {
  return db.selectFrom('customer').selectAll().where('username', '=', username).executeTakeFirst();
}

export function findCustomerById(db: Db, id: string) {
  return db.selectFrom('customer').selectAll().where('id', '=', id).executeTakeFirst();
}

export function insertCustomer(db: Db | Transaction<Database>, customer: NewCustomer) {
  return db.insertInto('customer').values(customer).returningAll().executeTakeFirstOrThrow();
}

export function updateTotpSecret(trx: Transaction<Database>, id: string, sealedSecret: string) {
  return trx.updateTable('customer').set({ totp_secret: sealedSecret, updated_at: new Date() }).where('id', '=', id).execute();
}

/** Marks a TOTP step used; false when it already was (the code is being replayed). */
export async function claimTotpStep(trx: Transaction<Database>, customerId: string, step: number): Promise<boolean> {
  const inserted = await trx
    .insertInto('used_totp_step')
    .values({ customer_id: customerId, step })
    .onConflict((oc) => oc.columns(['customer_id', 'step']).doNothing())
    .returning('step')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** Steps older than the validation window can never match again. */
export function forgetTotpStepsBefore(trx: Transaction<Database>, customerId: string, step: number) {
  return trx.deleteFrom('used_totp_step').where('customer_id', '=', customerId).where('step', '<', step).execute();
}

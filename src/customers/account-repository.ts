import type { Transaction } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { Database, NewBankAccount } from '../db/schema.ts';

export function findAccountsOfCustomer(db: Db, customerId: string) {
  return db.selectFrom('bank_account').selectAll().where('customer_id', '=', customerId).orderBy('name').execute();
}

/** The accounts among `ids` that belong to the customer. */
export function findOwnedAccounts(db: Db, customerId: string, ids: readonly string[]) {
  return db.selectFrom('bank_account').selectAll().where('customer_id', '=', customerId).where('id', 'in', ids).execute();
}

/**
 * A row when the account is in `currency` and its available balance covers `amount`. Compared as
 * numeric in Postgres: no float between the balance and the answer.
 */
export function findAccountCovering(db: Db, accountId: string, amount: string, currency: string) {
  return db
    .selectFrom('bank_account')
    .select('id')
    .where('id', '=', accountId)
    .where('currency', '=', currency)
    .where('available_balance', '>=', amount)
    .executeTakeFirst();
}

export function updateAvailableBalance(db: Db, accountId: string, amount: string | null) {
  return db.updateTable('bank_account').set({ available_balance: amount, updated_at: new Date() }).where('id', '=', accountId).execute();
}

export function insertAccount(db: Db, account: NewBankAccount) {
  return db.insertInto('bank_account').values(account).returningAll().executeTakeFirstOrThrow();
}

export function deleteAccount(trx: Transaction<Database>, id: string) {
  return trx.deleteFrom('bank_account').where('id', '=', id).execute();
}

import type { Kysely } from 'kysely';
import type { AccountScheme, AccountSubtype, AccountType, BankAccountRow, Database } from '../db/schema.ts';

/** A customer's account as consent pages and the consent model see it. */
export interface BankAccount {
  id: string;
  customerId: string;
  schemeName: AccountScheme;
  identification: string;
  name: string;
  currency: string;
  accountType: AccountType;
  accountSubtype: AccountSubtype;
}

/**
 * The bank's source of truth for who owns which account. Assent ships a Postgres implementation; a
 * bank can put its core-banking lookup behind the same interface.
 */
export interface AccountDirectory {
  listForCustomer(customerId: string): Promise<BankAccount[]>;
  /** The subset of `accountIds` that belongs to the customer; ids of other customers are left out. */
  findOwned(customerId: string, accountIds: readonly string[]): Promise<BankAccount[]>;
  /**
   * Whether the account can pay `amount` (decimal string) in `currency` now: a yes or no, never the
   * balance. An account whose balance is unknown cannot.
   */
  fundsAvailable(accountId: string, amount: string, currency: string): Promise<boolean>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toAccount(row: BankAccountRow): BankAccount {
  return {
    id: row.id,
    customerId: row.customer_id,
    schemeName: row.scheme_name,
    identification: row.identification,
    name: row.name,
    currency: row.currency,
    accountType: row.account_type,
    accountSubtype: row.account_subtype,
  };
}

export function postgresAccountDirectory(db: Kysely<Database>): AccountDirectory {
  return {
    async listForCustomer(customerId) {
      if (!UUID.test(customerId)) return [];
      const rows = await db.selectFrom('bank_account').selectAll().where('customer_id', '=', customerId).orderBy('name').execute();
      return rows.map(toAccount);
    },
    async findOwned(customerId, accountIds) {
      const ids = accountIds.filter((id) => UUID.test(id));
      if (!UUID.test(customerId) || ids.length === 0) return [];
      const rows = await db.selectFrom('bank_account').selectAll().where('customer_id', '=', customerId).where('id', 'in', ids).execute();
      return rows.map(toAccount);
    },
    async fundsAvailable(accountId, amount, currency) {
      if (!UUID.test(accountId)) return false;
      // Compared as numeric in Postgres: no float between the balance and the answer.
      const row = await db
        .selectFrom('bank_account')
        .select('id')
        .where('id', '=', accountId)
        .where('currency', '=', currency)
        .where('available_balance', '>=', amount)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}

/** The bank reports what an account can pay now (the built-in directory's stand-in for a core-banking balance). */
export async function setAvailableBalance(db: Kysely<Database>, accountId: string, amount: string | null): Promise<void> {
  await db.updateTable('bank_account').set({ available_balance: amount, updated_at: new Date() }).where('id', '=', accountId).execute();
}

export async function openAccount(db: Kysely<Database>, account: Omit<BankAccount, 'id'>): Promise<BankAccount> {
  const row = await db
    .insertInto('bank_account')
    .values({
      customer_id: account.customerId,
      scheme_name: account.schemeName,
      identification: account.identification,
      name: account.name,
      currency: account.currency,
      account_type: account.accountType,
      account_subtype: account.accountSubtype,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toAccount(row);
}

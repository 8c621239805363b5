import type { Db } from '../db/connect.ts';
import type { AccountScheme, AccountSubtype, AccountType, BankAccountRow } from '../db/schema.ts';
import type { AccountReference, AccountReferenceScheme } from '../protocol/consent-types.ts';
import {
  findAccountCovering,
  findAccountsOfCustomer,
  findOwnedAccounts,
  insertAccount,
  updateAvailableBalance,
} from './account-repository.ts';

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

/** The directory stores its accounts' schemes under their UK OB names (bank_account.scheme_name). */
const REFERENCE_SCHEME: Record<AccountScheme, AccountReferenceScheme> = {
  'UK.OBIE.SortCodeAccountNumber': 'sort_code_account',
  'UK.OBIE.IBAN': 'iban',
};

/** A bank account as a consent names accounts (the model's AccountReference). */
export function accountReferenceOf(account: Pick<BankAccount, 'schemeName' | 'identification'>): AccountReference {
  return { scheme: REFERENCE_SCHEME[account.schemeName], identification: account.identification };
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

export function postgresAccountDirectory(db: Db): AccountDirectory {
  return {
    async listForCustomer(customerId) {
      if (!UUID.test(customerId)) return [];
      const rows = await findAccountsOfCustomer(db, customerId);
      return rows.map(toAccount);
    },
    async findOwned(customerId, accountIds) {
      const ids = accountIds.filter((id) => UUID.test(id));
      if (!UUID.test(customerId) || ids.length === 0) return [];
      const rows = await findOwnedAccounts(db, customerId, ids);
      return rows.map(toAccount);
    },
    async fundsAvailable(accountId, amount, currency) {
      if (!UUID.test(accountId)) return false;
      const row = await findAccountCovering(db, accountId, amount, currency);
      return row !== undefined;
    },
  };
}

/** The bank reports what an account can pay now (the built-in directory's stand-in for a core-banking balance). */
export async function setAvailableBalance(db: Db, accountId: string, amount: string | null): Promise<void> {
  await updateAvailableBalance(db, accountId, amount);
}

export async function openAccount(db: Db, account: Omit<BankAccount, 'id'>): Promise<BankAccount> {
  const row = await insertAccount(db, {
    customer_id: account.customerId,
    scheme_name: account.schemeName,
    identification: account.identification,
    name: account.name,
    currency: account.currency,
    account_type: account.accountType,
    account_subtype: account.accountSubtype,
  });
  return toAccount(row);
}

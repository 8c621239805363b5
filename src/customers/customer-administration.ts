import type { Transaction } from 'kysely';
import { appendAuditEvent } from '../audit/audit-trail.ts';
import type { Db } from '../db/connect.ts';
import type { CustomerRow, Database } from '../db/schema.ts';
import { type BankAccount, openAccount, postgresAccountDirectory } from './account-directory.ts';
import { deleteAccount } from './account-repository.ts';
import {
  deleteDashboardSessionsOfCustomer,
  findCustomerById,
  findCustomerByUsername,
  listCustomerRows,
  updateCustomerDisabled,
} from './customer-repository.ts';
import type { Actor } from './customer-service.ts';
import { lockedUntil } from './login-throttle.ts';
import { deleteThrottle } from './login-throttle-repository.ts';

/** The operator's view of customers: listing, disabling, unlocking and their accounts. Every change is audited. */

export interface CustomerSummary {
  id: string;
  username: string;
  displayName: string;
  authenticatorEnrolled: boolean;
  disabledAt: Date | null;
  createdAt: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toSummary(row: CustomerRow): CustomerSummary {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    authenticatorEnrolled: row.totp_secret !== null,
    disabledAt: row.disabled_at,
    createdAt: row.created_at,
  };
}

/** A customer by id or by username. */
export async function lookUpCustomer(db: Db, idOrUsername: string): Promise<CustomerSummary | undefined> {
  const row = UUID.test(idOrUsername) ? await findCustomerById(db, idOrUsername) : await findCustomerByUsername(db, idOrUsername);
  return row && toSummary(row);
}

export async function listCustomers(db: Db, filter: { usernamePrefix?: string; limit: number }): Promise<CustomerSummary[]> {
  return (await listCustomerRows(db, filter)).map(toSummary);
}

export async function customerDetail(db: Db, customer: CustomerSummary) {
  return {
    ...customer,
    lockedUntil: (await lockedUntil(db, customer.username, new Date())) ?? null,
    accounts: await postgresAccountDirectory(db).listForCustomer(customer.id),
  };
}

async function audited(
  db: Db,
  customerId: string,
  event: string,
  actor: Actor,
  details: Record<string, unknown>,
  change: (trx: Transaction<Database>) => Promise<void>,
) {
  await db.transaction().execute(async (trx) => {
    await change(trx);
    await appendAuditEvent(trx, { subjectType: 'customer', subjectId: customerId, event, actor, details });
  });
}

/** Disabled customers cannot sign in (to a TPP's flow or the dashboard); their dashboard sessions end now. */
export async function setCustomerDisabled(
  db: Db,
  customer: CustomerSummary,
  input: { disabled: boolean; reason: string | undefined; actor: Actor },
) {
  const event = input.disabled ? 'customer.disabled' : 'customer.enabled';
  await audited(db, customer.id, event, input.actor, { ...(input.reason && { reason: input.reason }) }, async (trx) => {
    await updateCustomerDisabled(trx, customer.id, input.disabled);
    if (input.disabled) await deleteDashboardSessionsOfCustomer(trx, customer.id);
  });
}

/** Lifts a lockout (and forgets the failures counted so far). */
export async function unlockCustomer(db: Db, customer: CustomerSummary, actor: Actor): Promise<void> {
  await audited(db, customer.id, 'customer.unlocked', actor, {}, async (trx) => {
    await deleteThrottle(trx, customer.username);
  });
}

export async function openCustomerAccount(db: Db, account: Omit<BankAccount, 'id'>, actor: Actor): Promise<BankAccount> {
  return db.transaction().execute(async (trx) => {
    const opened = await openAccount(trx, account);
    await appendAuditEvent(trx, {
      subjectType: 'customer',
      subjectId: account.customerId,
      event: 'customer.account_opened',
      actor,
      after: opened,
    });
    return opened;
  });
}

/** Closes (removes) one of the customer's accounts; consents naming it can no longer read or pay from it. */
export async function closeCustomerAccount(
  db: Db,
  customer: CustomerSummary,
  accountId: string,
  actor: Actor,
): Promise<BankAccount | undefined> {
  const [account] = await postgresAccountDirectory(db).findOwned(customer.id, [accountId]);
  if (!account) return undefined;
  await audited(db, customer.id, 'customer.account_closed', actor, { account }, async (trx) => {
    await deleteAccount(trx, account.id);
  });
  return account;
}

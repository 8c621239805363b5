import { type RawBuilder, sql, type Transaction } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { CustomerRow, Database, NewCustomer } from '../db/schema.ts';

export function findCustomerByUsername(db: Db, username: string) {
  return db.selectFrom('customer').selectAll().where('username', '=', username).executeTakeFirst();
}

export function findCustomerById(db: Db, id: string) {
  return db.selectFrom('customer').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * What names the customer `id` on a page (no secrets), as a query of at most one row to read alongside
 * another; `id` is a value, or SQL reading it from the other statement's row.
 */
function customerNameQuery(id: string | null | RawBuilder<string | null>) {
  return sql<{
    id: string;
    username: string;
    display_name: string;
  }>`select id, username, display_name from customer where id = ${id}::uuid`;
}

/**
 * The customer the SQL `accountId` names as a JSON object (null for nobody), as a scalar subquery to
 * read with another statement's row. An id that is no UUID names nobody and is never cast.
 */
export function customerJsonQuery(accountId: RawBuilder<string | null>, uuidPattern: string): RawBuilder<unknown> {
  const uuid = sql<string | null>`case when ${accountId} ~* ${uuidPattern} then ${accountId} end`;
  return sql`(select row_to_json(c) from (${customerNameQuery(uuid)}) as c)`;
}

export function insertCustomer(db: Db | Transaction<Database>, customer: NewCustomer) {
  return db.insertInto('customer').values(customer).returningAll().executeTakeFirstOrThrow();
}

export function updateTotpSecret(trx: Transaction<Database>, id: string, sealedSecret: string) {
  return trx.updateTable('customer').set({ totp_secret: sealedSecret, updated_at: new Date() }).where('id', '=', id).execute();
}

/** A customer (if one has this username or id) and the lockout recorded for the username, read together. */
export interface CustomerAndLockout {
  customer: CustomerRow | undefined;
  lockedUntil: Date | null;
}

/** `subject`: the username or id the row was read for. */
type CustomerAndLockoutRow = CustomerRow & { locked_until: Date | null; found: boolean; subject: string | null };

/**
 * Sign-in's one read, as a query of exactly one row to send alone or alongside another statement: the
 * lockout of the username as typed (known or not: counters are kept for any username) and the customer
 * of that name, if there is one. Map its row with `toCustomerAndLockout`.
 */
export function customerByUsernameWithLockoutQuery(username: string) {
  return sql<CustomerAndLockoutRow>`
    select c.*, c.id is not null as found, t.locked_until, typed.username as subject
    from (values (${username}::text)) as typed (username)
    left join customer c on c.username = typed.username
    left join login_throttle t on t.username = typed.username`;
}

/** The second factor's one read, as a query of exactly one row: the customer `id` names and their username's lockout. */
export function customerByIdWithLockoutQuery(id: string | RawBuilder<string | null>) {
  return sql<CustomerAndLockoutRow>`
    select c.*, c.id is not null as found, t.locked_until, typed.id::text as subject
    from (values (${id}::uuid)) as typed (id)
    left join customer c on c.id = typed.id
    left join login_throttle t on t.username = c.username`;
}

export function toCustomerAndLockout(row: CustomerAndLockoutRow): CustomerAndLockout {
  const { locked_until: lockedUntil, found, subject: _subject, ...customer } = row;
  return { customer: found ? customer : undefined, lockedUntil };
}

export async function findCustomerByUsernameWithLockout(db: Db, username: string): Promise<CustomerAndLockout> {
  return toCustomerAndLockout((await customerByUsernameWithLockoutQuery(username).execute(db)).rows[0]!);
}

export async function findCustomerByIdWithLockout(db: Db, id: string): Promise<CustomerAndLockout> {
  return toCustomerAndLockout((await customerByIdWithLockoutQuery(id).execute(db)).rows[0]!);
}

/**
 * A completed strong authentication, in one statement (atomic on its own, no transaction): marks the
 * TOTP step used, forgets steps older than `forgetBefore` (they can never match again), clears the
 * username's failure count and makes `along` (the audit event's call), the last three only when the step
 * was not used before. False when it was (the code is being replayed): then nothing changed.
 */
export async function claimTotpStepAndClearFailures(
  db: Db,
  customer: { id: string; username: string },
  step: number,
  forgetBefore: number,
  along: RawBuilder<unknown>,
): Promise<boolean> {
  const { rows } = await sql<{ step: number }>`
    with claimed as (
      insert into used_totp_step (customer_id, step) values (${customer.id}, ${step})
      on conflict (customer_id, step) do nothing
      returning step
    ), forgotten as (
      delete from used_totp_step where customer_id = ${customer.id} and step < ${forgetBefore} and exists (select from claimed)
    ), cleared as (
      delete from login_throttle where username = ${customer.username} and exists (select from claimed)
    )
    select step, ${along} as along from claimed`.execute(db);
  return rows.length > 0;
}

/** Customers in username order, those whose username starts with `usernamePrefix` when given (taken literally, no wildcards). */
export function listCustomerRows(db: Db, filter: { usernamePrefix?: string; limit: number }) {
  let query = db.selectFrom('customer').selectAll().orderBy('username').limit(filter.limit);
  if (filter.usernamePrefix) query = query.where('username', 'like', `${filter.usernamePrefix.replace(/[\\%_]/g, '\\$&')}%`);
  return query.execute();
}

export function updateCustomerDisabled(trx: Transaction<Database>, id: string, disabled: boolean) {
  return trx
    .updateTable('customer')
    .set({ disabled_at: disabled ? new Date() : null, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

/**
 * Ends the customer's dashboard sessions. Here rather than in dashboard/, which sits above customers:
 * disabling a customer ends them in the same transaction.
 */
export function deleteDashboardSessionsOfCustomer(trx: Transaction<Database>, customerId: string) {
  return trx.deleteFrom('dashboard_session').where('customer_id', '=', customerId).execute();
}

export function deleteCustomerByUsername(db: Db, username: string) {
  return db.deleteFrom('customer').where('username', '=', username).execute();
}

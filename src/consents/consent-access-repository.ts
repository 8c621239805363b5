import { type Insertable, sql, type Transaction } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { ConsentAccessTable, Database } from '../db/schema.ts';

/**
 * The database's clock and the bank's date at that instant, in one statement: the time an access is
 * decided at and the day it counts on, both from one clock for every instance. Read after the consent's
 * row lock, so the decisions on one consent are ordered and so are their times.
 */
export async function bankClock(trx: Transaction<Database>, timeZone: string): Promise<{ now: Date; bankDate: string }> {
  const { rows } = await sql<{ now: Date; bank_date: string }>`
    select t.now, (t.now at time zone ${timeZone})::date::text as bank_date from (select clock_timestamp() as now) t`.execute(trx);
  const row = rows[0]!;
  return { now: row.now, bankDate: row.bank_date };
}

/**
 * Whether Postgres knows the bank's time zone. The configuration checks the name against Node's zone
 * database; the bank's day is computed by Postgres's own (bankClock), which may lack a zone Node has.
 */
export async function databaseKnowsTimeZone(db: Db, timeZone: string): Promise<boolean> {
  const { rows } = await sql<{ known: boolean }>`
    select exists (select 1 from pg_timezone_names where name = ${timeZone}) as known`.execute(db);
  return rows[0]!.known;
}

/** How many accesses without the customer present a consent had on a bank date. */
export async function countAccessesWithoutCustomer(trx: Transaction<Database>, consentId: string, bankDate: string): Promise<number> {
  const row = await trx
    .selectFrom('consent_access')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('consent_id', '=', consentId)
    .where('bank_date', '=', sql<Date>`${bankDate}::date`)
    .where('customer_present', '=', false)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function insertAccess(trx: Transaction<Database>, access: Insertable<ConsentAccessTable>): Promise<string> {
  const row = await trx.insertInto('consent_access').values(access).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

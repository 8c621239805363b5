import { sql, type Transaction } from 'kysely';
import type { Db } from '../../db/connect.ts';
import type { Database, VrpPaymentRow, VrpPaymentTable } from '../../db/schema.ts';
import type { Insertable } from 'kysely';

type Executor = Db | Transaction<Database>;

export function findPaymentByKey(db: Executor, consentId: string, idempotencyKey: string): Promise<VrpPaymentRow | undefined> {
  return db
    .selectFrom('vrp_payment')
    .selectAll()
    .where('consent_id', '=', consentId)
    .where('idempotency_key', '=', idempotencyKey)
    .executeTakeFirst();
}

/**
 * The sums of accepted payments in each [start, end), as exact decimal strings ("0.00" when none), in
 * the order given: one statement for every period of a consent.
 */
export async function sumsAccepted(db: Executor, consentId: string, periods: readonly { start: Date; end: Date }[]): Promise<string[]> {
  if (periods.length === 0) return [];
  const row = await db
    .selectFrom('vrp_payment')
    .select(
      periods.map((period, i) =>
        sql<string>`coalesce(sum(amount) filter (where created_at >= ${period.start} and created_at < ${period.end}), 0)::numeric(15, 2)::text`.as(
          `p${i}`,
        ),
      ),
    )
    .where('consent_id', '=', consentId)
    .where('outcome', '=', 'accepted')
    .where('created_at', '>=', new Date(Math.min(...periods.map((period) => period.start.getTime()))))
    .where('created_at', '<', new Date(Math.max(...periods.map((period) => period.end.getTime()))))
    .executeTakeFirstOrThrow();
  const totals = row as Record<string, string>;
  return periods.map((_, i) => totals[`p${i}`]!);
}

export function insertPayment(trx: Transaction<Database>, payment: Insertable<VrpPaymentTable>): Promise<VrpPaymentRow> {
  return trx.insertInto('vrp_payment').values(payment).returningAll().executeTakeFirstOrThrow();
}

/** The database's clock: one time source for every instance deciding periods, and for showing them. */
export async function databaseNow(db: Db | Transaction<Database>): Promise<Date> {
  const { rows } = await sql<{ now: Date }>`select clock_timestamp() as now`.execute(db);
  return rows[0]!.now;
}

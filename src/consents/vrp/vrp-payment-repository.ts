import { sql, type Transaction } from 'kysely';
import type { Db } from '../../db/connect.ts';
import type { Database, VrpPaymentRow, VrpPaymentTable } from '../../db/schema.ts';
import type { Insertable } from 'kysely';

type Executor = Db | Transaction<Database>;

export function findPaymentByKey(db: Executor, consentId: string, idempotencyKey: string): Promise<VrpPaymentRow | undefined> {
  return db.selectFrom('vrp_payment').selectAll().where('consent_id', '=', consentId).where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
}

/** The sum of accepted payments in [start, end), as an exact decimal string ("0.00" when none). */
export async function sumAccepted(db: Executor, consentId: string, start: Date, end: Date): Promise<string> {
  const row = await db
    .selectFrom('vrp_payment')
    .select(sql<string>`coalesce(sum(amount), 0)::numeric(15, 2)::text`.as('total'))
    .where('consent_id', '=', consentId)
    .where('outcome', '=', 'accepted')
    .where('created_at', '>=', start)
    .where('created_at', '<', end)
    .executeTakeFirstOrThrow();
  return row.total;
}

export function insertPayment(trx: Transaction<Database>, payment: Insertable<VrpPaymentTable>): Promise<VrpPaymentRow> {
  return trx.insertInto('vrp_payment').values(payment).returningAll().executeTakeFirstOrThrow();
}

/** The database's clock: one time source for every instance deciding periods. */
export async function databaseNow(trx: Transaction<Database>): Promise<Date> {
  const { rows } = await sql<{ now: Date }>`select clock_timestamp() as now`.execute(trx);
  return rows[0]!.now;
}

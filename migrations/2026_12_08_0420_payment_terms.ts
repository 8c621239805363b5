import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

/**
 * A single payment's terms grow by what a SEPA credit transfer carries and a UK domestic payment does not
 * (issue 28, Berlin Group payment initiation), in the model's own words:
 * - `creditor_agent`: the payee's bank, a BIC (ISO 9362), when the TPP named it;
 * - `requested_execution_date`: the bank date a future-dated payment is to be made on. A calendar date, not
 *   a moment: kept as its ISO text (YYYY-MM-DD) so that no driver turns it into an instant in some time zone.
 * `instruction_identification` and `end_to_end_identification` were already nullable: a SEPA payment has no
 * instruction id, and an end-to-end id only when the TPP gave one. Existing rows keep null in both new columns.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('consent')
    .addColumn('creditor_agent', 'text', (c) => c.check(sql`creditor_agent ~ '^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$'`))
    .addColumn('requested_execution_date', 'text', (c) => c.check(sql`requested_execution_date ~ '^\\d{4}-\\d{2}-\\d{2}$'`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('consent').dropColumn('creditor_agent').dropColumn('requested_execution_date').execute();
}

import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  // Every use of a consent's tokens, for the customer's timeline (AU CDR rule 1.15): issued, refreshed,
  // introspected (at most once a minute per consent). Consent transitions stay in audit_event.
  await db.schema
    .createTable('consent_use')
    .addColumn('id', 'bigint', (column) => column.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('consent_id', 'uuid', (column) => column.notNull().references('consent.id').onDelete('cascade'))
    .addColumn('kind', 'text', (column) => column.notNull().check(sql`kind in ('issued', 'refreshed', 'introspected')`))
    .addColumn('client_id', 'text', (column) => column.notNull())
    .addColumn('occurred_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('consent_use_by_consent').on('consent_use').columns(['consent_id', 'occurred_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('consent_use').execute();
}

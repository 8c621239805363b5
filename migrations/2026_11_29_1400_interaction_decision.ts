import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  // The customer's one decision on an interaction (approve or deny): a repeated or concurrent post of
  // the consent form finds it here and gets the first outcome instead of deciding again.
  await db.schema
    .alterTable('sca_interaction')
    .addColumn('client_id', 'text')
    .addColumn('decision', 'text', (c) => c.check(sql`decision in ('approved', 'denied')`))
    .addColumn('decided_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sca_interaction').dropColumn('decided_at').dropColumn('decision').dropColumn('client_id').execute();
}

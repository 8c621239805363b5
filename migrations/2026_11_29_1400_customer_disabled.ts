import type { Kysely } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  // An operator disabled the customer (`customer:disable`): no sign-in until enabled again.
  await db.schema.alterTable('customer').addColumn('disabled_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('customer').dropColumn('disabled_at').execute();
}

import type { Kysely } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  // Why a consent ended when neither the customer nor the TPP ended it (e.g. "authorization code reused").
  await db.schema.alterTable('consent').addColumn('status_reason', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('consent').dropColumn('status_reason').execute();
}

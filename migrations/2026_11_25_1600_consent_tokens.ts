import type { Kysely } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  // When a token of the consent was last issued or introspected, to the minute (consents/consent-use.ts).
  await db.schema.alterTable('consent').addColumn('last_used_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('consent').dropColumn('last_used_at').execute();
}

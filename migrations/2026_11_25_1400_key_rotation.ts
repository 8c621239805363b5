import type { Kysely } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

/** A signing key is published from creation, signs from activates_at, and leaves the JWKS at retires_at. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('server_secret').addColumn('activates_at', 'timestamptz').addColumn('retires_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('server_secret').dropColumn('activates_at').dropColumn('retires_at').execute();
}

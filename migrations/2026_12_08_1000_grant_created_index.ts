import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

/**
 * The orphan-grant sweep looks only at the grants created in its window (created_at within a day before
 * its grace period ended): by this index, instead of reading every grant's payload on each run, which at
 * ten million stored rows was seconds of a full scan every minute.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index oidc_model_grant_created on oidc_model (created_at) where model = 'Grant'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index oidc_model_grant_created`.execute(db);
}

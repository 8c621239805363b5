import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  // One attempt at the customer's strong authentication of a consent (the Berlin Group's authorisation
  // sub-resource), by redirect (the OAuth flow) or decoupled (the customer's authentication device). Its
  // outcome is not stored here: it is read from the consent's status and, for a decoupled one, from its
  // request on the device. Insert-only, like the ledger of accesses.
  await db.schema
    .createTable('consent_authorisation')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('consent_id', 'uuid', (c) => c.notNull().references('consent.id'))
    .addColumn('approach', 'text', (c) => c.notNull().check(sql`approach in ('redirect', 'decoupled')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('consent_authorisation_consent').on('consent_authorisation').columns(['consent_id', 'created_at']).execute();
  await sql`
    create function consent_authorisation_insert_only() returns trigger language plpgsql as $$
    begin
      raise exception 'consent_authorisation is insert-only';
    end $$`.execute(db);
  await sql`
    create trigger consent_authorisation_insert_only before update or delete on consent_authorisation
    for each row execute function consent_authorisation_insert_only()`.execute(db);
  // A decoupled authorisation asks the customer's device through the decoupled_request the CIBA flow uses,
  // without a CIBA request of the provider behind it (auth_req_id null): it names its authorisation instead.
  await db.schema
    .alterTable('decoupled_request')
    .alterColumn('auth_req_id', (c) => c.dropNotNull())
    .execute();
  await db.schema
    .alterTable('decoupled_request')
    .addColumn('authorisation_id', 'uuid', (c) => c.unique().references('consent_authorisation.id'))
    .execute();
  await sql`alter table decoupled_request add constraint decoupled_request_origin
    check ((auth_req_id is null) <> (authorisation_id is null))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('decoupled_request').dropConstraint('decoupled_request_origin').execute();
  await db.schema.alterTable('decoupled_request').dropColumn('authorisation_id').execute();
  await db.deleteFrom('decoupled_request').where('auth_req_id', 'is', null).execute();
  await db.schema
    .alterTable('decoupled_request')
    .alterColumn('auth_req_id', (c) => c.setNotNull())
    .execute();
  await db.schema.dropTable('consent_authorisation').execute();
  await sql`drop function consent_authorisation_insert_only()`.execute(db);
}

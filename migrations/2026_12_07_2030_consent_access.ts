import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  // Every account access a resource server recorded under a consent and was allowed: the ledger that
  // frequencyPerDay counts (accesses without the customer present, per bank day). Refusals change
  // nothing and are not written. Insert-only: a counted access never changes or disappears.
  await db.schema
    .createTable('consent_access')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('consent_id', 'uuid', (c) => c.notNull().references('consent.id'))
    // The database's clock when the access was decided, under the consent's row lock.
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    // The day of `at` in the bank's time zone (BANK_TIME_ZONE) when it was decided: what "per day" counts.
    .addColumn('bank_date', 'date', (c) => c.notNull())
    // PSU-IP-Address was given: the customer is present, and the access is not counted.
    .addColumn('customer_present', 'boolean', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull().check(sql`resource ~ '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$'`))
    .addColumn('account_id', 'text', (c) => c.check(sql`account_id ~ '^[!-~]{1,128}$'`))
    .addColumn('resource_server', 'text', (c) => c.notNull())
    .execute();
  // Counting: the accesses of one consent on one bank day that were made without the customer.
  await db.schema
    .createIndex('consent_access_counted')
    .on('consent_access')
    .columns(['consent_id', 'bank_date'])
    .where(sql.ref('customer_present'), '=', false)
    .execute();
  await db.schema.createIndex('consent_access_consent').on('consent_access').columns(['consent_id', 'at']).execute();
  await sql`
    create function consent_access_insert_only() returns trigger language plpgsql as $$
    begin
      raise exception 'consent_access is insert-only';
    end $$`.execute(db);
  await sql`
    create trigger consent_access_insert_only before update or delete on consent_access
    for each row execute function consent_access_insert_only()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('consent_access').execute();
  await sql`drop function consent_access_insert_only()`.execute(db);
}

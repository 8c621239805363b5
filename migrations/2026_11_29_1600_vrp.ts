import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table consent drop constraint consent_type_check`.execute(db);
  await sql`alter table consent add constraint consent_type_check
    check (type in ('account_access', 'domestic_payment', 'funds_confirmation', 'domestic_vrp'))`.execute(db);
  // A VRP consent's control parameters and creditor, as validated (amounts are decimal strings).
  await db.schema.alterTable('consent').addColumn('vrp', 'jsonb').execute();
  await sql`alter table consent add constraint consent_vrp_complete check ((type = 'domestic_vrp') = (vrp is not null))`.execute(db);

  // Every payment decision under a VRP consent: accepted ones count against its limits, refused
  // ones are kept so that a repeated idempotency key gets the first answer.
  await db.schema
    .createTable('vrp_payment')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('consent_id', 'uuid', (c) => c.notNull().references('consent.id').onDelete('cascade'))
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('request', 'text', (c) => c.notNull())
    // Exact decimal: never a float between the request and the sum.
    .addColumn('amount', 'numeric(15, 2)', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('currency', 'text', (c) => c.notNull().check(sql`currency ~ '^[A-Z]{3}$'`))
    .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('accepted', 'refused')`))
    // The answer given, returned again for a repeated idempotency key.
    .addColumn('answer', 'jsonb', (c) => c.notNull())
    .addColumn('resource_server', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('vrp_payment_idempotency', ['consent_id', 'idempotency_key'])
    .execute();
  // What the account can pay now, as the bank last reported it; null: not known (funds confirmation says no).
  await db.schema.alterTable('bank_account').addColumn('available_balance', 'numeric(15, 2)').execute();
  await db.schema
    .createIndex('vrp_payment_accepted')
    .on('vrp_payment')
    .columns(['consent_id', 'created_at'])
    .where(sql.ref('outcome'), '=', 'accepted')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('vrp_payment').execute();
  await db.schema.alterTable('bank_account').dropColumn('available_balance').execute();
  await sql`alter table consent drop constraint consent_vrp_complete`.execute(db);
  await db.schema.alterTable('consent').dropColumn('vrp').execute();
  await sql`alter table consent drop constraint consent_type_check`.execute(db);
  await sql`alter table consent add constraint consent_type_check
    check (type in ('account_access', 'domestic_payment', 'funds_confirmation'))`.execute(db);
}

import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('consent')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('account_access', 'domestic_payment', 'funds_confirmation')`))
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'uuid', (c) => c.references('customer.id').onDelete('set null'))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('AwaitingAuthorisation', 'Authorised', 'Rejected', 'Revoked', 'Expired', 'Consumed')`),
    )
    .addColumn('permissions', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('expires_at', 'timestamptz')
    .addColumn('transaction_from', 'timestamptz')
    .addColumn('transaction_to', 'timestamptz')
    // Exact decimal: amounts are strings in the API and numeric here, never a float in between.
    .addColumn('instructed_amount', 'numeric(15, 2)', (c) => c.check(sql`instructed_amount > 0`))
    .addColumn('instructed_currency', 'text', (c) => c.check(sql`instructed_currency ~ '^[A-Z]{3}$'`))
    .addColumn('creditor_account', 'jsonb')
    .addColumn('remittance_reference', 'text')
    .addColumn('instruction_identification', 'text')
    .addColumn('end_to_end_identification', 'text')
    .addColumn('debtor_account', 'jsonb')
    .addColumn('risk', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('selected_account_ids', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('idempotency_key', 'text')
    .addColumn('request_hash', 'text')
    .addColumn('interaction_uid', 'text')
    .addColumn('grant_id', 'text')
    .addColumn('status_updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint(
      'consent_payment_complete',
      sql`type <> 'domestic_payment' or (instructed_amount is not null and instructed_currency is not null and creditor_account is not null)`,
    )
    .addCheckConstraint(
      'consent_transaction_window',
      sql`transaction_from is null or transaction_to is null or transaction_from <= transaction_to`,
    )
    .addUniqueConstraint('consent_idempotency', ['client_id', 'idempotency_key'])
    .addUniqueConstraint('consent_interaction', ['client_id', 'interaction_uid'])
    .execute();
  await db.schema.createIndex('consent_client').on('consent').column('client_id').execute();
  await db.schema.createIndex('consent_customer').on('consent').column('customer_id').where('customer_id', 'is not', null).execute();
  await db.schema.createIndex('consent_grant').on('consent').column('grant_id').where('grant_id', 'is not', null).execute();
  await db.schema
    .createIndex('consent_due_expiry')
    .on('consent')
    .column('expires_at')
    .where(sql.ref('status'), '=', 'Authorised')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('consent').execute();
}

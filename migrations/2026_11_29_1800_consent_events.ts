import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  // A TPP's one subscription to event notifications (UK OB callback-urls / event-subscriptions).
  await db.schema
    .createTable('event_subscription')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('client_id', 'text', (c) => c.notNull().unique())
    .addColumn('callback_url', 'text')
    .addColumn('version', 'text', (c) => c.notNull())
    // null: every event type.
    .addColumn('event_types', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // The outbox: one row per event, written in the transaction of the consent change that causes it.
  await db.schema
    .createTable('consent_event')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('seq', 'bigserial', (c) => c.notNull().unique())
    .addColumn('txn', 'uuid', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('consent_id', 'uuid', (c) => c.notNull())
    .addColumn('consent_type', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('acknowledged_at', 'timestamptz')
    .addColumn('recipient_error', 'jsonb')
    .addColumn('push_state', 'text', (c) => c.notNull().check(sql`push_state in ('none', 'pending', 'delivered', 'dead')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('consent_event_unacknowledged')
    .on('consent_event')
    .columns(['client_id', 'seq'])
    .where(sql.ref('acknowledged_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('consent_event_push_due')
    .on('consent_event')
    .columns(['next_attempt_at'])
    .where(sql.ref('push_state'), '=', 'pending')
    .execute();
  await db.schema.createIndex('consent_event_consent').on('consent_event').columns(['consent_id', 'seq']).execute();
  await db.schema
    .createIndex('consent_event_dead')
    .on('consent_event')
    .columns(['client_id', 'seq'])
    .where(sql.ref('push_state'), '=', 'dead')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('consent_event').execute();
  await db.schema.dropTable('event_subscription').execute();
}

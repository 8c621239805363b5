import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  // The dashboard's own client key (private_key_jwt), generated once per database and shared by every instance.
  await db.schema
    .createTable('dashboard_client_key')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('private_jwk', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // A sign-in on its way through Assent's authorization endpoint: PKCE verifier, state and nonce until the callback.
  // Ids are stored as SHA-256 of the cookie value, so reading the table does not yield a usable cookie.
  await db.schema
    .createTable('dashboard_login')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('dashboard_login_expires_at').on('dashboard_login').column('expires_at').execute();

  await db.schema
    .createTable('dashboard_session')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'uuid', (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('acr', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('dashboard_session_expires_at').on('dashboard_session').column('expires_at').execute();
  await db.schema.createIndex('dashboard_session_customer').on('dashboard_session').column('customer_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('dashboard_session').execute();
  await db.schema.dropTable('dashboard_login').execute();
  await db.schema.dropTable('dashboard_client_key').execute();
}

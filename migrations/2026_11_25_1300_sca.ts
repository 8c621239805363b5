import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  // The second factor: an RFC 6238 secret, AES-256-GCM encrypted (never stored in clear).
  await db.schema.alterTable('customer').addColumn('totp_secret', 'text').execute();

  // Dev mode keeps the TOTP encryption key beside the other generated server secrets.
  await sql`alter table server_secret drop constraint server_secret_kind_check`.execute(db);
  await sql`alter table server_secret add constraint server_secret_kind_check check (kind in ('signing', 'cookie', 'totp'))`.execute(db);

  // Keyed by the username as typed, not by customer, so unknown usernames lock out exactly like real ones.
  await db.schema
    .createTable('login_throttle')
    .addColumn('username', 'text', (c) => c.primaryKey())
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // A one-time code is accepted once: the primary key refuses the second use of a time step.
  await db.schema
    .createTable('used_totp_step')
    .addColumn('customer_id', 'uuid', (c) => c.notNull().references('customer.id').onDelete('cascade'))
    .addColumn('step', 'integer', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('used_totp_step_pk', ['customer_id', 'step'])
    .execute();

  // Progress of strong customer authentication inside one authorization interaction.
  await db.schema
    .createTable('sca_interaction')
    .addColumn('uid', 'text', (c) => c.primaryKey())
    .addColumn('customer_id', 'uuid', (c) => c.references('customer.id').onDelete('cascade'))
    .addColumn('password_verified_at', 'timestamptz')
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sca_interaction_expires_at').on('sca_interaction').column('expires_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sca_interaction').execute();
  await db.schema.dropTable('used_totp_step').execute();
  await db.schema.dropTable('login_throttle').execute();
  await sql`delete from server_secret where kind = 'totp'`.execute(db);
  await sql`alter table server_secret drop constraint server_secret_kind_check`.execute(db);
  await sql`alter table server_secret add constraint server_secret_kind_check check (kind in ('signing', 'cookie'))`.execute(db);
  await db.schema.alterTable('customer').dropColumn('totp_secret').execute();
}

import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  // A TPP's compromised credential (`incident:block-credential`): a client certificate by its SHA-256
  // thumbprint (base64url, as in cnf x5t#S256) or a key of its JWKS by kid. Refused until unblocked.
  await db.schema
    .createTable('blocked_credential')
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('certificate', 'key')`))
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('blocked_by', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('blocked_credential_pkey', ['kind', 'value', 'client_id'])
    .execute();
  // A misbehaving TPP throttled below the default (`tpp:throttle`) without being suspended.
  await db.schema
    .createTable('client_rate_limit')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('limit', 'integer', (c) => c.notNull().check(sql`"limit" > 0`))
    .addColumn('window_seconds', 'integer', (c) => c.notNull().check(sql`window_seconds > 0`))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('client_rate_limit').execute();
  await db.schema.dropTable('blocked_credential').execute();
}

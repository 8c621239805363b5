import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  // A CIBA (decoupled) authentication request as the customer's authentication device sees it. The
  // provider keeps its own BackchannelAuthenticationRequest; this row is what lists, decides once and
  // throttles polling. customer_id is null when the hint named nobody: the request is accepted like any
  // other and left to expire, so the TPP cannot tell.
  await db.schema
    .createTable('decoupled_request')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('auth_req_id', 'text', (c) => c.notNull().unique())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('customer_id', 'uuid')
    .addColumn('consent_id', 'text')
    .addColumn('binding_message', 'text')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('resource', 'text')
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql`status in ('pending', 'approved', 'denied')`),
    )
    .addColumn('grant_id', 'text')
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_polled_at', 'timestamptz')
    .addColumn('decided_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('decoupled_request_pending')
    .on('decoupled_request')
    .columns(['customer_id', 'expires_at'])
    .where(sql.ref('status'), '=', 'pending')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('decoupled_request').execute();
}

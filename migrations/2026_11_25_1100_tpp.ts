import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('tpp')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('software_id', 'text', (c) => c.notNull())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('org_name', 'text')
    .addColumn('client_name', 'text', (c) => c.notNull())
    .addColumn('logo_uri', 'text')
    .addColumn('roles', 'jsonb', (c) => c.notNull())
    .addColumn('directory', 'text', (c) => c.notNull())
    .addColumn('software_statement', 'text', (c) => c.notNull())
    .addColumn('software_statement_claims', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'suspended', 'deleted')`))
    .addColumn('status_reason', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('tpp_org_id').on('tpp').columns(['org_id']).execute();
  await db.schema.createIndex('tpp_software_id').on('tpp').columns(['software_id']).execute();

  // One row per software statement ever presented: a jti is accepted once per directory.
  await db.schema
    .createTable('software_statement_use')
    .addColumn('directory', 'text', (c) => c.notNull())
    .addColumn('jti', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('software_statement_use_pk', ['directory', 'jti'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('software_statement_use').execute();
  await db.schema.dropTable('tpp').execute();
}

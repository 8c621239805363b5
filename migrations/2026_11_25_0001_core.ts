import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('oidc_model')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('grant_id', 'text')
    .addColumn('user_code', 'text')
    .addColumn('uid', 'text')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('consumed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('oidc_model_pk', ['model', 'id'])
    .execute();
  await db.schema.createIndex('oidc_model_grant_id').on('oidc_model').columns(['grant_id']).where('grant_id', 'is not', null).execute();
  await db.schema.createIndex('oidc_model_uid').on('oidc_model').columns(['model', 'uid']).where('uid', 'is not', null).execute();
  await db.schema
    .createIndex('oidc_model_user_code')
    .on('oidc_model')
    .columns(['model', 'user_code'])
    .where('user_code', 'is not', null)
    .execute();
  await db.schema
    .createIndex('oidc_model_expires_at')
    .on('oidc_model')
    .columns(['expires_at'])
    .where('expires_at', 'is not', null)
    .execute();

  await db.schema
    .createTable('server_secret')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('signing', 'cookie')`))
    .addColumn('material', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('customer')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('customer').execute();
  await db.schema.dropTable('server_secret').execute();
  await db.schema.dropTable('oidc_model').execute();
}

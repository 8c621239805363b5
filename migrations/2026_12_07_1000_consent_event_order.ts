import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  // Each consent numbers its own events 1, 2, 3... (the SET's consent_seq), so a receiver can order
  // them whatever order they arrive in. The count lives in a row of its own, not in max(consent_seq):
  // the sweep deletes acknowledged events, and a consent's next event must never reuse a number.
  await db.schema
    .createTable('consent_event_sequence')
    .addColumn('consent_id', 'uuid', (c) => c.primaryKey())
    .addColumn('last_seq', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.alterTable('consent_event').addColumn('consent_seq', 'integer').execute();
  // Events already stored are numbered in their emission order (seq), from what is left of each consent.
  await sql`
    update consent_event e set consent_seq = numbered.n
      from (select id, row_number() over (partition by consent_id order by seq) as n from consent_event) numbered
     where e.id = numbered.id`.execute(db);
  await sql`
    insert into consent_event_sequence (consent_id, last_seq)
    select consent_id, max(consent_seq) from consent_event group by consent_id`.execute(db);
  await db.schema
    .alterTable('consent_event')
    .alterColumn('consent_seq', (c) => c.setNotNull())
    .execute();
  // Push delivery finds an earlier undelivered event of the same consent through this index; it
  // replaces the one on (consent_id, seq).
  await db.schema.createIndex('consent_event_consent_seq').on('consent_event').columns(['consent_id', 'consent_seq']).unique().execute();
  await db.schema.dropIndex('consent_event_consent').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('consent_event_consent').on('consent_event').columns(['consent_id', 'seq']).execute();
  await db.schema.dropIndex('consent_event_consent_seq').execute();
  await db.schema.alterTable('consent_event').dropColumn('consent_seq').execute();
  await db.schema.dropTable('consent_event_sequence').execute();
}

import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

/**
 * An event records the standard of the consent it is about (issue 29): a SET of a UK OB v4.0 consent
 * links it at its v4.0 path and speaks v4.0's status codes, one of a v3.1 consent stays as it was. The
 * standard is a fact of the change, like the consent's type, so the event is signed from its own row.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('consent_event').addColumn('consent_standard', 'text').execute();
  await sql`update consent_event e set consent_standard = c.standard from consent c where c.id = e.consent_id`.execute(db);
  // Events outliving their consent row (none are deleted today) were written under v3.1, the only version then.
  await sql`update consent_event set consent_standard = 'uk_ob_v3' where consent_standard is null`.execute(db);
  await db.schema
    .alterTable('consent_event')
    .alterColumn('consent_standard', (c) => c.setNotNull())
    .execute();
  await sql`alter table consent_event add constraint consent_event_standard_check
    check (consent_standard in ('uk_ob_v3', 'uk_ob_v4', 'berlin_group'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('consent_event').dropColumn('consent_standard').execute();
}

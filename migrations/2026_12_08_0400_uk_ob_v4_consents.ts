import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

/**
 * UK Open Banking v4.0 beside v3.1 (issue 29): a consent remembers which version created it. Both are
 * one consent resource (docs/uk-ob-v4.md), so nothing else of the row changes.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table consent drop constraint consent_standard_check`.execute(db);
  await sql`alter table consent add constraint consent_standard_check
    check (standard in ('uk_ob_v3', 'uk_ob_v4', 'berlin_group'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // The record of which version created a consent is not thrown away silently.
  const { rows } = await sql<{ count: string }>`select count(*) as count from consent where standard = 'uk_ob_v4'`.execute(db);
  if (Number(rows[0]?.count) > 0) throw new Error('consents created through UK OB v4.0 cannot be carried back');
  await sql`alter table consent drop constraint consent_standard_check`.execute(db);
  await sql`alter table consent add constraint consent_standard_check
    check (standard in ('uk_ob_v3', 'berlin_group'))`.execute(db);
}

import { type Kysely, type RawBuilder, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

/**
 * The consent model becomes standard-neutral (issue 28): UK OB v3.1 is one dialect mapped in and out
 * of it, Berlin Group the next. Every stored consent is carried over unchanged in meaning:
 * - `permissions` (UK codes) becomes `access`: [{scope, accounts}], one read scope per permission, in
 *   the same order, `accounts` null (a UK consent reads the accounts the customer chose);
 * - `creditor_account` and `debtor_account` move from UK OB's {SchemeName, Identification, Name,
 *   SecondaryIdentification} to {scheme, identification, name, secondaryIdentification}; a payee's Name
 *   moves to `creditor_name`; `payment_scheme` says how the money moves ('uk_domestic' for UK payments);
 * - `standard` ('uk_ob_v3' for every existing row), `recurring` (all but single payments),
 *   `frequency_per_day`, `combined_service`, `redirect_uri` are new;
 * - `ended_by` says who ended a Revoked or Rejected consent, from the audit event that ended it.
 * The migrator runs it in one transaction; a row it cannot carry over (a permission or account scheme
 * it does not know) fails it, leaving everything as it was. The `vrp` column (VRP terms, UK-shaped) stays.
 */

const PERMISSIONS: [string, string][] = [
  ['ReadAccountsBasic', 'accounts.basic'],
  ['ReadAccountsDetail', 'accounts.detail'],
  ['ReadBalances', 'balances'],
  ['ReadBeneficiariesBasic', 'beneficiaries.basic'],
  ['ReadBeneficiariesDetail', 'beneficiaries.detail'],
  ['ReadDirectDebits', 'direct_debits'],
  ['ReadOffers', 'offers'],
  ['ReadPAN', 'pan'],
  ['ReadParty', 'party'],
  ['ReadPartyPSU', 'party_psu'],
  ['ReadProducts', 'products'],
  ['ReadScheduledPaymentsBasic', 'scheduled_payments.basic'],
  ['ReadScheduledPaymentsDetail', 'scheduled_payments.detail'],
  ['ReadStandingOrdersBasic', 'standing_orders.basic'],
  ['ReadStandingOrdersDetail', 'standing_orders.detail'],
  ['ReadStatementsBasic', 'statements.basic'],
  ['ReadStatementsDetail', 'statements.detail'],
  ['ReadTransactionsBasic', 'transactions.basic'],
  ['ReadTransactionsCredits', 'transactions.credits'],
  ['ReadTransactionsDebits', 'transactions.debits'],
  ['ReadTransactionsDetail', 'transactions.detail'],
];

const SCHEMES: [string, string][] = [
  ['UK.OBIE.SortCodeAccountNumber', 'sort_code_account'],
  ['UK.OBIE.IBAN', 'iban'],
];

const table = (pairs: [string, string][], name: string, columns: [string, string]) =>
  sql`(values ${sql.join(
    pairs.map(([uk, neutral]) => sql`(${uk}::text, ${neutral}::text)`),
    sql`, `,
  )}) as ${sql.raw(name)}(${sql.raw(columns.join(', '))})`;

/** UK permission -> read scope, and UK SchemeName -> the model's scheme, as tables to join. */
const permissionScope = table(PERMISSIONS, 'ps', ['permission', 'scope']);
const accountScheme = table(SCHEMES, 'acs', ['scheme_name', 'scheme']);

async function refuseUnknown(db: Kysely<any>, what: string, query: RawBuilder<{ value: string }>) {
  const { rows } = await query.execute(db);
  if (rows.length > 0) throw new Error(`cannot carry over ${what}: ${rows.map((row) => row.value).join(', ')}`);
}

export async function up(db: Kysely<any>): Promise<void> {
  await refuseUnknown(
    db,
    'permissions',
    sql<{ value: string }>`select distinct p as value from consent, jsonb_array_elements_text(permissions) p
      where p not in (select permission from ${permissionScope})`,
  );
  await refuseUnknown(
    db,
    'account schemes',
    sql<{
      value: string;
    }>`select distinct a->>'SchemeName' as value from consent, lateral (values (creditor_account), (debtor_account)) v(a)
      where a is not null and (a->>'SchemeName' is null or a->>'SchemeName' not in (select scheme_name from ${accountScheme}))`,
  );

  await db.schema
    .alterTable('consent')
    .addColumn('standard', 'text', (c) =>
      c
        .notNull()
        .defaultTo('uk_ob_v3')
        .check(sql`standard in ('uk_ob_v3', 'berlin_group')`),
    )
    .addColumn('access', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('recurring', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('frequency_per_day', 'integer', (c) => c.check(sql`frequency_per_day > 0`))
    .addColumn('combined_service', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('redirect_uri', 'text')
    .addColumn('ended_by', 'text', (c) => c.check(sql`ended_by in ('customer', 'tpp', 'bank')`))
    .addColumn('payment_scheme', 'text', (c) =>
      c.check(sql`payment_scheme in ('uk_domestic', 'sepa_credit_transfer', 'sepa_instant_credit_transfer')`),
    )
    .addColumn('creditor_name', 'text')
    .execute();

  // One read scope per permission, in the order the TPP asked.
  await sql`
    update consent c set access = coalesce((
      select jsonb_agg(jsonb_build_object('scope', ps.scope, 'accounts', null) order by p.ord)
      from jsonb_array_elements_text(c.permissions) with ordinality p(permission, ord)
      join ${permissionScope} on ps.permission = p.permission
    ), '[]'::jsonb)`.execute(db);

  // Names move out of the payee's reference into creditor_name; empty optional fields were never stored.
  await sql`update consent set creditor_name = creditor_account->>'Name' where creditor_account is not null`.execute(db);
  for (const column of ['creditor_account', 'debtor_account']) {
    const keepName = column === 'debtor_account';
    await sql`
      update consent set ${sql.ref(column)} = jsonb_strip_nulls(jsonb_build_object(
        'scheme', (select acs.scheme from ${accountScheme} where acs.scheme_name = ${sql.ref(column)}->>'SchemeName'),
        'identification', ${sql.ref(column)}->>'Identification',
        'name', ${keepName ? sql`${sql.ref(column)}->>'Name'` : sql`null::text`},
        'secondaryIdentification', ${sql.ref(column)}->>'SecondaryIdentification'))
      where ${sql.ref(column)} is not null`.execute(db);
  }

  await sql`update consent set payment_scheme = 'uk_domestic' where type = 'domestic_payment'`.execute(db);
  await sql`update consent set recurring = false where type = 'domestic_payment'`.execute(db);

  // Who ended it: the actor of the audit event that moved it to Revoked or Rejected (operators and the
  // system speak for the bank); failing that, the reasons only the system and the TPP's token
  // revocation give.
  await sql`
    update consent c set ended_by = case ended.actor_kind when 'customer' then 'customer' when 'tpp' then 'tpp' else 'bank' end
    from (
      select distinct on (subject_id) subject_id, actor_kind from audit_event
      where subject_type = 'consent' and after->>'status' in ('Revoked', 'Rejected')
      order by subject_id, seq desc
    ) ended
    where ended.subject_id = c.id::text and c.status in ('Revoked', 'Rejected')`.execute(db);
  await sql`
    update consent set ended_by = case status_reason when 'the TPP revoked its token (RFC 7009)' then 'tpp' else 'bank' end
    where ended_by is null and status = 'Revoked'
      and status_reason in ('authorization code reused', 'refresh token reused', 'the TPP revoked its token (RFC 7009)')`.execute(db);

  await db.schema.alterTable('consent').dropColumn('permissions').execute();
  await db.schema
    .alterTable('consent')
    .addCheckConstraint('consent_ended_by', sql`ended_by is null or status in ('Revoked', 'Rejected')`)
    .execute();
  await db.schema
    .alterTable('consent')
    .addCheckConstraint('consent_payment_scheme', sql`type <> 'domestic_payment' or payment_scheme is not null`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ count: string }>`select count(*) as count from consent where standard <> 'uk_ob_v3'`.execute(db);
  if (Number(rows[0]?.count) > 0) throw new Error('consents of another standard than UK OB v3.1 cannot be carried back');

  await db.schema.alterTable('consent').dropConstraint('consent_ended_by').execute();
  await db.schema.alterTable('consent').dropConstraint('consent_payment_scheme').execute();
  await db.schema
    .alterTable('consent')
    .addColumn('permissions', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .execute();
  await sql`
    update consent c set permissions = coalesce((
      select jsonb_agg(to_jsonb(ps.permission) order by a.ord)
      from jsonb_array_elements(c.access) with ordinality a(read, ord)
      join ${permissionScope} on ps.scope = a.read->>'scope'
    ), '[]'::jsonb)`.execute(db);
  for (const column of ['creditor_account', 'debtor_account']) {
    await sql`
      update consent set ${sql.ref(column)} = jsonb_strip_nulls(jsonb_build_object(
        'SchemeName', (select acs.scheme_name from ${accountScheme} where acs.scheme = ${sql.ref(column)}->>'scheme'),
        'Identification', ${sql.ref(column)}->>'identification',
        'Name', ${column === 'creditor_account' ? sql`creditor_name` : sql`${sql.ref(column)}->>'name'`},
        'SecondaryIdentification', ${sql.ref(column)}->>'secondaryIdentification'))
      where ${sql.ref(column)} is not null`.execute(db);
  }

  await db.schema
    .alterTable('consent')
    .dropColumn('standard')
    .dropColumn('access')
    .dropColumn('recurring')
    .dropColumn('frequency_per_day')
    .dropColumn('combined_service')
    .dropColumn('redirect_uri')
    .dropColumn('ended_by')
    .dropColumn('payment_scheme')
    .dropColumn('creditor_name')
    .execute();
}

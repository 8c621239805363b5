import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

/**
 * Commercial VRP beside sweeping (issue 29).
 * - Every VRP consent's terms (`vrp`) say what the mandate is for: `purpose` 'sweeping' when its UK
 *   VRPType lists UK.OBIE.VRPType.Sweeping (every consent Assent's pages and dashboard worded as sweeping),
 *   'commercial' otherwise (a VRPType.Other consent, which the API took before and worded as paying a payee).
 * - `paying_account`: the account a payment or VRP consent pays from, as the customer chose it when
 *   authorising ({scheme, identification}), so the bank's payment decision can refuse paying an account
 *   into itself without asking the account directory. Filled for the consents already authorised from
 *   the built-in directory's accounts; a consent whose account is not there (a bank's own directory)
 *   keeps null, and its payments are checked at authorisation only, as before.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    update consent
       set vrp = vrp || jsonb_build_object(
             'purpose',
             case when vrp -> 'controlParameters' -> 'VRPType' ? 'UK.OBIE.VRPType.Sweeping' then 'sweeping' else 'commercial' end)
     where vrp is not null`.execute(db);
  await db.schema.alterTable('consent').addColumn('paying_account', 'jsonb').execute();
  await sql`
    update consent c
       set paying_account = jsonb_build_object(
             'scheme',
             case a.scheme_name when 'UK.OBIE.IBAN' then 'iban' else 'sort_code_account' end,
             'identification',
             a.identification)
      from bank_account a
     where c.type in ('domestic_payment', 'domestic_vrp')
       and jsonb_array_length(c.selected_account_ids) = 1
       and a.id::text = c.selected_account_ids ->> 0`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('consent').dropColumn('paying_account').execute();
  await sql`update consent set vrp = vrp - 'purpose' where vrp is not null`.execute(db);
}

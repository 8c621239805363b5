import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  // A TPP is known either by the software statement it registered with (DCR) or, with no registration,
  // by its eIDAS certificate (Berlin Group): then its client_id and org_id are its PSD2 authorisation
  // number (the certificate's organizationIdentifier), and it has no software statement.
  await sql`alter table tpp add column identified_by text not null default 'software_statement'
    constraint tpp_identified_by check (identified_by in ('software_statement', 'eidas'))`.execute(db);
  await sql`alter table tpp alter column software_statement drop not null`.execute(db);
  await sql`alter table tpp alter column software_statement_claims drop not null`.execute(db);
  await sql`alter table tpp add constraint tpp_identity_evidence check (
    (identified_by = 'software_statement' and software_statement is not null and software_statement_claims is not null)
    or (identified_by = 'eidas' and software_statement is null and software_statement_claims is null and client_id = org_id))`.execute(db);
  // One row per authorisation number: a first contact is an insert that may meet another's.
  await sql`create unique index tpp_eidas_organization on tpp (org_id) where identified_by = 'eidas'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index tpp_eidas_organization`.execute(db);
  await sql`alter table tpp drop constraint tpp_identity_evidence`.execute(db);
  // TPPs known only by their certificate cannot be kept without a software statement.
  await sql`delete from tpp where identified_by = 'eidas'`.execute(db);
  await sql`alter table tpp alter column software_statement_claims set not null`.execute(db);
  await sql`alter table tpp alter column software_statement set not null`.execute(db);
  await sql`alter table tpp drop column identified_by`.execute(db);
}

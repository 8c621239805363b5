import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

/**
 * Behind a transaction pooler no connection can LISTEN for `assent_client_changed` (the pooler lends its
 * sessions to others between statements), so every change to a client or its TPP record is also counted
 * in one row, which processes poll instead (DATABASE_POOLER=transaction). The count is raised in the
 * writer's transaction, so a poller sees it only once the change is committed; by deferred triggers, so
 * the row is locked only at commit, after every other lock the transaction takes (no deadlock with a
 * writer of another client).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create table client_change_count (
    only_row boolean primary key default true check (only_row),
    changes bigint not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`.execute(db);
  await sql`insert into client_change_count (changes) values (0)`.execute(db);
  await sql`
    create function assent_count_client_change() returns trigger language plpgsql as $$
    begin
      update client_change_count set changes = changes + 1, updated_at = now();
      return null;
    end $$`.execute(db);
  await sql`create constraint trigger oidc_model_client_written_counted after insert or update on oidc_model
    deferrable initially deferred for each row when (new.model = 'Client') execute function assent_count_client_change()`.execute(db);
  await sql`create constraint trigger oidc_model_client_deleted_counted after delete on oidc_model
    deferrable initially deferred for each row when (old.model = 'Client') execute function assent_count_client_change()`.execute(db);
  await sql`create constraint trigger tpp_changed_counted after insert or update or delete on tpp
    deferrable initially deferred for each row execute function assent_count_client_change()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger tpp_changed_counted on tpp`.execute(db);
  await sql`drop trigger oidc_model_client_deleted_counted on oidc_model`.execute(db);
  await sql`drop trigger oidc_model_client_written_counted on oidc_model`.execute(db);
  await sql`drop function assent_count_client_change()`.execute(db);
  await sql`drop table client_change_count`.execute(db);
}

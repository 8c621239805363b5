import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

/**
 * Every change to a client's stored metadata (RFC 7591/7592, operator tools) or to its TPP record
 * (suspension, reinstatement, deletion) notifies `assent_client_changed` with the client id, on
 * commit, so that every process drops its cached copy (src/oidc/client-cache.ts). Triggers, not
 * application code, so that no writer can forget.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function assent_notify_client_changed() returns trigger language plpgsql as $$
    begin
      if tg_table_name = 'tpp' then
        perform pg_notify('assent_client_changed', coalesce(new.client_id, old.client_id));
      else
        perform pg_notify('assent_client_changed', coalesce(new.id, old.id));
      end if;
      return null;
    end $$`.execute(db);
  await sql`create trigger oidc_model_client_written after insert or update on oidc_model
    for each row when (new.model = 'Client') execute function assent_notify_client_changed()`.execute(db);
  await sql`create trigger oidc_model_client_deleted after delete on oidc_model
    for each row when (old.model = 'Client') execute function assent_notify_client_changed()`.execute(db);
  await sql`create trigger tpp_changed after insert or update or delete on tpp
    for each row execute function assent_notify_client_changed()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger tpp_changed on tpp`.execute(db);
  await sql`drop trigger oidc_model_client_deleted on oidc_model`.execute(db);
  await sql`drop trigger oidc_model_client_written on oidc_model`.execute(db);
  await sql`drop function assent_notify_client_changed()`.execute(db);
}

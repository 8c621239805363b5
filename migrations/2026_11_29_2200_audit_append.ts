import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  // Appends one event to its subject's hash chain in one round trip: the chain's lock, its last link
  // and the insert were three statements. The caller sends the canonical JSON of the row in three
  // pieces around the two values only known under the lock (the previous hash and the sequence
  // number); the hash is SHA-256 of the whole, as the application computes it when it verifies a chain.
  // Volatile plpgsql reads with a fresh snapshot per statement (read committed), so the last link read
  // after taking the lock includes every append committed before it was granted.
  await sql`
    create function append_audit_event(
      p_subject_type text, p_subject_id text, p_event text, p_actor_kind text, p_actor_id text,
      p_before jsonb, p_after jsonb, p_details jsonb, p_occurred_at timestamptz,
      p_material_head text, p_material_middle text, p_material_tail text
    ) returns void language plpgsql volatile as $$
    declare
      last_seq integer;
      last_hash text;
      next_seq integer;
    begin
      perform pg_advisory_xact_lock(hashtext(p_subject_type || ':' || p_subject_id));
      select seq, hash into last_seq, last_hash from audit_event
        where subject_type = p_subject_type and subject_id = p_subject_id order by seq desc limit 1;
      next_seq := coalesce(last_seq, 0) + 1;
      insert into audit_event (subject_type, subject_id, seq, event, actor_kind, actor_id, before, after, details, occurred_at, prev_hash, hash)
      values (p_subject_type, p_subject_id, next_seq, p_event, p_actor_kind, p_actor_id, p_before, p_after, p_details, p_occurred_at, last_hash,
        encode(sha256(convert_to(p_material_head || coalesce(to_json(last_hash)::text, 'null') || p_material_middle || next_seq::text || p_material_tail, 'UTF8')), 'hex'));
    end;
    $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function append_audit_event(text, text, text, text, text, jsonb, jsonb, jsonb, timestamptz, text, text, text)`.execute(db);
}

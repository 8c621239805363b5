import { type Expression, type OnConflictBuilder, type RawBuilder, type SqlBool, sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { Database } from '../db/schema.ts';

/** One oidc_model row as the adapter writes it. */
export interface ModelRow {
  model: string;
  id: string;
  payload: string;
  grant_id?: string | null;
  user_code?: string | null;
  uid?: string | null;
  expires_at: RawBuilder<Date> | null;
}

/** A row already stored under the (model, id) is replaced: payload, keys and expiry. */
function replacingStored(oc: OnConflictBuilder<Database, 'oidc_model'>) {
  return oc.columns(['model', 'id']).doUpdateSet((eb) => ({
    payload: eb.ref('excluded.payload'),
    grant_id: eb.ref('excluded.grant_id'),
    user_code: eb.ref('excluded.user_code'),
    uid: eb.ref('excluded.uid'),
    expires_at: eb.ref('excluded.expires_at'),
    updated_at: sql`now()`,
  }));
}

/** The adapter's upsert of several rows as one statement (no two rows with one model and id). */
export function upsertModelRows(db: Db, rows: readonly ModelRow[]) {
  return db
    .insertInto('oidc_model')
    .values(rows.map((row) => ({ grant_id: null, user_code: null, uid: null, ...row })))
    .onConflict(replacingStored);
}

/**
 * The same upsert, with the row (model, id) `replaced` deleted in the same statement: a Session whose
 * identifier a resumed login reset goes from the old id to the new in one atomic write.
 */
export function upsertModelRowsReplacing(db: Db, rows: readonly ModelRow[], replaced: { model: string; id: string }) {
  return db
    .with('replaced', (qb) => qb.deleteFrom('oidc_model').where('model', '=', replaced.model).where('id', '=', replaced.id))
    .insertInto('oidc_model')
    .values(rows.map((row) => ({ grant_id: null, user_code: null, uid: null, ...row })))
    .onConflict(replacingStored);
}

/**
 * The same upsert, written only where `condition` holds when the statement runs: the condition can read
 * a data-modifying CTE of the same statement (a claim), so that the claim and the rows are one atomic
 * statement. The list's columns are cast, since a VALUES list outside an INSERT's own VALUES takes no
 * type from the target table.
 */
export function upsertModelRowsWhere(db: Db, rows: readonly ModelRow[], condition: Expression<SqlBool>) {
  const listed = sql.join(
    rows.map(
      (row) =>
        sql`(${row.model}, ${row.id}, ${row.payload}, ${row.grant_id ?? null}, ${row.user_code ?? null}, ${row.uid ?? null}, ${row.expires_at})`,
    ),
  );
  return db
    .insertInto('oidc_model')
    .columns(['model', 'id', 'payload', 'grant_id', 'user_code', 'uid', 'expires_at'])
    .expression(
      sql`
      select v.model, v.id, v.payload::jsonb, v.grant_id, v.user_code, v.uid, v.expires_at::timestamptz
      from (values ${listed}) as v (model, id, payload, grant_id, user_code, uid, expires_at)
      where ${condition}`,
    )
    .onConflict(replacingStored);
}

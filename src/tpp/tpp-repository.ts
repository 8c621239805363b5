import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { NewTpp, TppRow, TppStatus } from '../db/schema.ts';

export function findTpp(db: Db, clientId: string): Promise<TppRow | undefined> {
  return db.selectFrom('tpp').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

export interface ClientDisplayRow {
  tpp_name: string | null;
  tpp_logo: string | null;
  client_registered: boolean;
  /** The client's registered metadata values, as stored (any JSON). */
  client_name: unknown;
  client_logo: unknown;
}

/** What names a client on a page, from its TPP record and its registration, in one round trip. */
export async function findClientDisplay(db: Db, clientId: string): Promise<ClientDisplayRow> {
  const { rows } = await sql<ClientDisplayRow>`
    select t.client_name as tpp_name, t.logo_uri as tpp_logo, m.id is not null as client_registered, m.payload->'client_name' as client_name, m.payload->'logo_uri' as client_logo
    from (values (${clientId}::text)) as wanted (client_id)
    left join tpp t on t.client_id = wanted.client_id
    left join oidc_model m on m.model = 'Client' and m.id = wanted.client_id`.execute(db);
  return rows[0]!;
}

export function lockTpp(trx: Db, clientId: string): Promise<TppRow | undefined> {
  return trx.selectFrom('tpp').selectAll().where('client_id', '=', clientId).forUpdate().executeTakeFirst();
}

export function listTppRows(db: Db): Promise<TppRow[]> {
  return db.selectFrom('tpp').selectAll().orderBy('created_at').execute();
}

export async function insertTpp(trx: Db, tpp: NewTpp): Promise<void> {
  await trx.insertInto('tpp').values(tpp).execute();
}

export async function updateTpp(
  trx: Db,
  clientId: string,
  patch: Partial<Pick<NewTpp, 'client_name' | 'logo_uri' | 'roles' | 'org_name' | 'software_statement' | 'software_statement_claims' | 'directory' | 'status' | 'status_reason'>>,
): Promise<void> {
  await trx.updateTable('tpp').set({ ...patch, updated_at: sql`now()` }).where('client_id', '=', clientId).execute();
}

export async function hasTppWithStatus(db: Db, where: { orgId: string }, status: TppStatus): Promise<boolean> {
  const row = await db.selectFrom('tpp').select('client_id').where('org_id', '=', where.orgId).where('status', '=', status).limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function clientIsActiveOrUnmanaged(db: Db, clientId: string): Promise<boolean> {
  const row = await db.selectFrom('tpp').select('status').where('client_id', '=', clientId).executeTakeFirst();
  return row === undefined || row.status === 'active';
}

/** True when this call recorded the statement's first use; false when its jti was seen before. */
export async function recordStatementUse(trx: Db, use: { directory: string; jti: string; expiresAt: Date }): Promise<boolean> {
  const inserted = await trx
    .insertInto('software_statement_use')
    .values({ directory: use.directory, jti: use.jti, expires_at: use.expiresAt })
    .onConflict((oc) => oc.columns(['directory', 'jti']).doNothing())
    .returning('jti')
    .executeTakeFirst();
  return inserted !== undefined;
}

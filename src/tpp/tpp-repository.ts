import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { NewTpp, TppRow, TppStatus } from '../db/schema.ts';
import type { ClientThrottle } from '../ops/rate-limit.ts';
import { storedClientExists } from '../store/clients.ts';

export function findTpp(db: Db, clientId: string): Promise<TppRow | undefined> {
  return db.selectFrom('tpp').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

/** A TPP's row with whether its oidc-provider client is stored, in one statement (an eIDAS TPP's writing request). */
export function findTppWithClient(db: Db, clientId: string): Promise<(TppRow & { has_client: boolean }) | undefined> {
  return db
    .selectFrom('tpp')
    .selectAll()
    .select(storedClientExists(sql.ref<string>('tpp.client_id')).as('has_client'))
    .where('client_id', '=', clientId)
    .executeTakeFirst();
}

export interface ClientDisplayRow {
  tpp_name: string | null;
  tpp_logo: string | null;
  client_registered: boolean;
  /** The client's registered metadata values, as stored (any JSON). */
  client_name: unknown;
  client_logo: unknown;
  client_kind: unknown;
}

/** What names a client on a page, from its TPP record and its registration: always exactly one row. */
export function clientDisplayQuery(clientId: string | RawBuilder<string | null>) {
  return sql<ClientDisplayRow>`
    select t.client_name as tpp_name, t.logo_uri as tpp_logo, m.id is not null as client_registered, m.payload->'client_name' as client_name, m.payload->'logo_uri' as client_logo, m.payload->'client_kind' as client_kind
    from (values (${clientId}::text)) as wanted (client_id)
    left join tpp t on t.client_id = wanted.client_id
    left join oidc_model m on m.model = 'Client' and m.id = wanted.client_id`;
}

/** The client's display row in one round trip. */
export async function findClientDisplay(db: Db, clientId: string): Promise<ClientDisplayRow> {
  const { rows } = await clientDisplayQuery(clientId).execute(db);
  return rows[0]!;
}

export interface OrganisationClientRow {
  client_id: string;
  directory: string;
  org_id: string;
  org_name: string | null;
}

/** Every client registered by the organisation that registered this one (itself included); none without a TPP record. */
export function listClientsOfSameOrganisation(db: Db, clientId: string): Promise<OrganisationClientRow[]> {
  return db
    .selectFrom('tpp as mine')
    .innerJoin('tpp as same', (join) => join.onRef('same.directory', '=', 'mine.directory').onRef('same.org_id', '=', 'mine.org_id'))
    .select(['same.client_id', 'same.directory', 'same.org_id', 'same.org_name'])
    .where('mine.client_id', '=', clientId)
    .orderBy('same.created_at')
    .execute();
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

/**
 * Inserts the row unless one with its client_id exists: the inserted row, or undefined when another
 * transaction's insert got there first (this one waits for it to commit, then inserts nothing).
 */
export function insertTppIfAbsent(trx: Db, tpp: NewTpp): Promise<TppRow | undefined> {
  return trx
    .insertInto('tpp')
    .values(tpp)
    .onConflict((conflict) => conflict.column('client_id').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function updateTpp(
  trx: Db,
  clientId: string,
  patch: Partial<
    Pick<
      NewTpp,
      | 'client_name'
      | 'logo_uri'
      | 'roles'
      | 'org_name'
      | 'software_statement'
      | 'software_statement_claims'
      | 'directory'
      | 'status'
      | 'status_reason'
    >
  >,
): Promise<void> {
  await trx
    .updateTable('tpp')
    .set({ ...patch, updated_at: sql`now()` })
    .where('client_id', '=', clientId)
    .execute();
}

export async function hasTppWithStatus(db: Db, where: { orgId: string }, status: TppStatus): Promise<boolean> {
  const row = await db
    .selectFrom('tpp')
    .select('client_id')
    .where('org_id', '=', where.orgId)
    .where('status', '=', status)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export interface ClientStandingRow {
  /** No TPP record (seeded, operator-made) or an active one. */
  usable: boolean;
  blockedKids: string[];
  throttle: ClientThrottle | null;
}

/**
 * A client's standing (ClientStandingRow) as one JSON object, for the client the SQL `clientId` names:
 * readClientStandings's column, and the adapter's client companion (the client an interaction names,
 * which the resume loads next, read with the interaction in its snapshot; map it with
 * `clientStandingOfCompanion`).
 */
export function clientStandingWithRow(clientId: RawBuilder<string | null>): RawBuilder<ClientStandingRow> {
  return sql<ClientStandingRow>`json_build_object(
    'usable', not exists (select 1 from tpp where tpp.client_id = ${clientId} and tpp.status <> 'active'),
    'blockedKids', array(select b.value from blocked_credential b where b.kind = 'key' and b.client_id = ${clientId}),
    'throttle', (select json_build_object('limit', r."limit", 'windowSeconds', r.window_seconds) from client_rate_limit r where r.client_id = ${clientId}))`;
}

/**
 * Whether clients may act now, in one statement for all of them: each one's TPP status, the kids an
 * operator blocked (`incident:block-credential`) and the operator's throttle. Read on every load of a
 * client, so that a suspension, a block or a throttle holds on every instance from its commit.
 */
export async function readClientStandings(db: Db, clientIds: readonly string[]): Promise<Map<string, ClientStandingRow>> {
  const { rows } = await sql<{ client_id: string; standing: ClientStandingRow }>`
    select ids.client_id, ${clientStandingWithRow(sql.ref('ids.client_id'))} as standing
    from unnest(${[...clientIds]}::text[]) as ids(client_id)`.execute(db);
  return new Map(rows.map((row) => [row.client_id, row.standing]));
}

/** The standing `clientStandingWithRow` read. */
export function clientStandingOfCompanion(companion: unknown): ClientStandingRow {
  return companion as ClientStandingRow;
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

/** The operator's throttle on the client (`tpp:throttle`), if any. */
export function findClientRateLimit(db: Db, clientId: string) {
  return db.selectFrom('client_rate_limit').select(['limit', 'window_seconds']).where('client_id', '=', clientId).executeTakeFirst();
}

/** Sets the client's throttle, replacing any. */
export async function upsertClientRateLimit(
  db: Db,
  row: { client_id: string; limit: number; window_seconds: number; reason: string },
): Promise<void> {
  await db
    .insertInto('client_rate_limit')
    .values(row)
    .onConflict((conflict) => conflict.column('client_id').doUpdateSet(row))
    .execute();
}

/** Lifts the client's throttle; returns the one lifted, undefined when there was none. */
export function deleteClientRateLimit(db: Db, clientId: string) {
  return db.deleteFrom('client_rate_limit').where('client_id', '=', clientId).returning(['limit', 'window_seconds']).executeTakeFirst();
}

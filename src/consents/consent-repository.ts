import { type Kysely, type RawBuilder, sql, type Transaction, type Updateable } from 'kysely';
import type { ConsentRow, ConsentStatus, ConsentTable, ConsentType, Database, NewConsent } from '../db/schema.ts';
import type { ConsentStandard } from '../protocol/consent-types.ts';

type Executor = Kysely<Database> | Transaction<Database>;

/** Inserts unless the client already used the idempotency key (or interaction); undefined then. */
export function insertConsent(db: Executor, consent: NewConsent): Promise<ConsentRow | undefined> {
  return db
    .insertInto('consent')
    .values(consent)
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
}

export function findConsent(db: Executor, id: string): Promise<ConsentRow | undefined> {
  return db.selectFrom('consent').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * The consents living in a grant, as one JSON array of {id, status, expires_at, client_id}: read with
 * the grant in the statement that finds a token (store/batched-find.ts), or alone.
 */
export function consentStandingsOfGrantJson(grantId: RawBuilder<string>): RawBuilder<unknown> {
  return sql`(select coalesce(json_agg(json_build_object('id', c.id, 'status', c.status, 'expires_at', c.expires_at, 'client_id', c.client_id)), '[]'::json) from consent c where c.grant_id = ${grantId})`;
}

export async function findConsentStandingsOfGrantJson(db: Executor, grantId: string): Promise<unknown> {
  const { rows } = await sql<{ standings: unknown }>`select ${consentStandingsOfGrantJson(sql.val(grantId))} as standings`.execute(db);
  return rows[0]?.standings;
}

/**
 * Reads consents once no transition holds them (FOR SHARE waits for a FOR UPDATE or an update in
 * flight): what a writer that raced a transition sees after the transition committed. In id order, as
 * every locking reader of several consents takes them.
 */
export function findConsentsAfterTransitions(db: Executor, ids: readonly string[]): Promise<ConsentRow[]> {
  return db.selectFrom('consent').selectAll().where('id', 'in', ids).orderBy('id').forShare().execute();
}

export function findConsents(db: Executor, ids: readonly string[]): Promise<ConsentRow[]> {
  return db.selectFrom('consent').selectAll().where('id', 'in', ids).execute();
}

export function lockConsent(trx: Transaction<Database>, id: string): Promise<ConsentRow | undefined> {
  return trx.selectFrom('consent').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/** The consents living in a grant (several once grant management merged them), locked in id order. */
export function lockConsentsOfGrant(trx: Transaction<Database>, grantId: string): Promise<ConsentRow[]> {
  return trx.selectFrom('consent').selectAll().where('grant_id', '=', grantId).orderBy('id').forUpdate().execute();
}

export function findConsentByIdempotencyKey(db: Executor, clientId: string, key: string): Promise<ConsentRow | undefined> {
  return db.selectFrom('consent').selectAll().where('client_id', '=', clientId).where('idempotency_key', '=', key).executeTakeFirst();
}

export function findConsentByInteraction(db: Executor, clientId: string, uid: string): Promise<ConsentRow | undefined> {
  return db.selectFrom('consent').selectAll().where('client_id', '=', clientId).where('interaction_uid', '=', uid).executeTakeFirst();
}

/** The grants of the customer's authorised consents (those that have one). */
export function findGrantIdsOfAuthorisedConsents(db: Executor, customerId: string) {
  return db
    .selectFrom('consent')
    .select('grant_id')
    .where('customer_id', '=', customerId)
    .where('status', '=', 'Authorised')
    .where('grant_id', 'is not', null)
    .execute();
}

export function listConsentsOfCustomer(db: Executor, customerId: string): Promise<ConsentRow[]> {
  return db.selectFrom('consent').selectAll().where('customer_id', '=', customerId).orderBy('created_at', 'desc').execute();
}

/** What an operator's consent search may name; every field narrows the search. */
export interface ConsentFilter {
  customerId?: string;
  clientId?: string;
  type?: ConsentType;
  /** The dialect (UK OB version, Berlin Group) the consent was created in. */
  standard?: ConsentStandard;
  status?: ConsentStatus;
  createdFrom?: Date;
  createdTo?: Date;
  limit: number;
}

/** Newest first; `status` is matched as effectiveStatus computes it at `now`. */
export function selectConsents(db: Executor, filter: ConsentFilter & { now: Date }): Promise<ConsentRow[]> {
  let query = db.selectFrom('consent').selectAll().orderBy('created_at', 'desc').limit(filter.limit);
  if (filter.customerId) query = query.where('customer_id', '=', filter.customerId);
  if (filter.clientId) query = query.where('client_id', '=', filter.clientId);
  if (filter.type) query = query.where('type', '=', filter.type);
  if (filter.standard) query = query.where('standard', '=', filter.standard);
  if (filter.createdFrom) query = query.where('created_at', '>=', filter.createdFrom);
  if (filter.createdTo) query = query.where('created_at', '<', filter.createdTo);
  const { status, now } = filter;
  if (status === 'Expired') {
    query = query.where((eb) =>
      eb.or([eb('status', '=', 'Expired'), eb.and([eb('status', '=', 'Authorised'), eb('expires_at', '<=', now)])]),
    );
  } else if (status === 'Authorised') {
    query = query.where('status', '=', 'Authorised').where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
  } else if (status) {
    query = query.where('status', '=', status);
  }
  return query.execute();
}

export function updateConsent(trx: Transaction<Database>, id: string, changes: Updateable<ConsentTable>) {
  return trx.updateTable('consent').set(changes).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Authorised consents past their expiry, locked; SKIP LOCKED keeps concurrent sweepers apart. */
export function lockDueForExpiry(trx: Transaction<Database>, limit: number): Promise<ConsentRow[]> {
  return trx
    .selectFrom('consent')
    .selectAll()
    .where('status', '=', 'Authorised')
    .where('expires_at', '<=', sql<Date>`now()`)
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/**
 * A customer's Authorised consents, only those with these clients when `clientIds` is given, locked in
 * id order whatever clients they belong to, so that concurrent lockers queue rather than deadlock.
 */
export function lockAuthorisedOfCustomerWithClients(
  trx: Transaction<Database>,
  customerId: string,
  clientIds?: readonly string[],
): Promise<ConsentRow[]> {
  let query = trx.selectFrom('consent').selectAll().where('customer_id', '=', customerId).where('status', '=', 'Authorised');
  if (clientIds !== undefined) query = query.where('client_id', 'in', clientIds);
  return query.orderBy('id').forUpdate().execute();
}

/**
 * Authorised -> Consumed for a live single-use payment consent, as one conditional update: among
 * concurrent callers Postgres re-checks the condition after each row lock, so exactly one gets the row.
 */
export function markConsumed(trx: Transaction<Database>, id: string): Promise<ConsentRow | undefined> {
  return trx
    .updateTable('consent')
    .set({ status: 'Consumed', status_updated_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('type', '=', 'domestic_payment')
    .where('status', '=', 'Authorised')
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .returningAll()
    .executeTakeFirst();
}

/** A client's consents in one grant (several after a grant management merge), oldest first. */
export function listConsentsOfGrant(db: Executor, grantId: string, clientId: string): Promise<ConsentRow[]> {
  return db
    .selectFrom('consent')
    .selectAll()
    .where('grant_id', '=', grantId)
    .where('client_id', '=', clientId)
    .orderBy('created_at')
    .execute();
}

/** A client's Authorised consents in one grant, locked in id order (as lockAuthorisedOfCustomerWithClients). */
export function lockAuthorisedOfGrant(trx: Transaction<Database>, grantId: string, clientId: string): Promise<ConsentRow[]> {
  return trx
    .selectFrom('consent')
    .selectAll()
    .where('grant_id', '=', grantId)
    .where('client_id', '=', clientId)
    .where('status', '=', 'Authorised')
    .orderBy('id')
    .forUpdate()
    .execute();
}

/** How many consents there are of each type in each stored status. */
export async function countByTypeAndStatus(db: Executor): Promise<{ type: ConsentType; status: ConsentStatus; count: number }[]> {
  const rows = await db
    .selectFrom('consent')
    .select(['type', 'status'])
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .groupBy(['type', 'status'])
    .execute();
  return rows.map((row) => ({ type: row.type, status: row.status, count: Number(row.count) }));
}

import { sql, type Insertable, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { Database, DecoupledRequestStatus, DecoupledRequestTable } from '../db/schema.ts';

/** The decoupled_request table: plain functions, the transaction passed in where one is needed. */

export type DecoupledRequestRow = Selectable<DecoupledRequestTable>;

/**
 * Expiry by the database clock, like the provider's own artefacts (store/adapter.ts), or at the instant
 * given: a CIBA request's row ends when the provider's request does (its `exp`), never after it.
 */
export function insertDecoupledRequest(
  db: Db,
  row: Omit<Insertable<DecoupledRequestTable>, 'expires_at'>,
  expiry: { lifetimeSeconds: number } | { at: Date },
) {
  return db
    .insertInto('decoupled_request')
    .values({ ...row, expires_at: 'at' in expiry ? expiry.at : sql<Date>`now() + ${expiry.lifetimeSeconds} * interval '1 second'` })
    .returning(['id', 'expires_at'])
    .executeTakeFirstOrThrow();
}

/** The customer's requests still waiting for a decision, oldest first. */
export function listPendingForCustomer(db: Db, customerId: string): Promise<DecoupledRequestRow[]> {
  return db
    .selectFrom('decoupled_request')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('status', '=', 'pending')
    .where('expires_at', '>', sql<Date>`now()`)
    .orderBy('created_at')
    .execute();
}

/** How many requests wait for the customer's decision and name a consent to show: what the page lists. */
export async function countPendingForCustomer(db: Db, customerId: string): Promise<number> {
  const { count } = await db
    .selectFrom('decoupled_request')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('customer_id', '=', customerId)
    .where('status', '=', 'pending')
    .where('expires_at', '>', sql<Date>`now()`)
    .where('consent_id', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(count);
}

/** One of the customer's requests, pending or not; another customer's (or no one's) is not found. */
export function findForCustomer(db: Db, customerId: string, id: string): Promise<DecoupledRequestRow | undefined> {
  return db.selectFrom('decoupled_request').selectAll().where('id', '=', id).where('customer_id', '=', customerId).executeTakeFirst();
}

/**
 * Takes the decision: only one caller moves a pending, unexpired request on (Postgres re-checks the
 * condition after the row lock), so a second approval, concurrent or later, finds nothing to claim.
 */
export function claimDecision(trx: Transaction<Database>, id: string, customerId: string, to: Exclude<DecoupledRequestStatus, 'pending'>) {
  return trx
    .updateTable('decoupled_request')
    .set({ status: to, decided_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('customer_id', '=', customerId)
    .where('status', '=', 'pending')
    .where('expires_at', '>', sql<Date>`now()`)
    .returningAll()
    .executeTakeFirst();
}

/** The requests of consent authorisations, each with whether it lapsed (expired while still pending). */
export async function findAuthorisationRequests(
  db: Db,
  authorisationIds: readonly string[],
): Promise<{ authorisationId: string; lapsed: boolean }[]> {
  if (authorisationIds.length === 0) return [];
  const rows = await db
    .selectFrom('decoupled_request')
    .select(['authorisation_id', sql<boolean>`status = 'pending' and expires_at <= now()`.as('lapsed')])
    .where('authorisation_id', 'in', authorisationIds)
    .execute();
  return rows.flatMap((row) => (row.authorisation_id ? [{ authorisationId: row.authorisation_id, lapsed: row.lapsed }] : []));
}

export function recordGrant(trx: Transaction<Database>, id: string, grantId: string) {
  return trx.updateTable('decoupled_request').set({ grant_id: grantId }).where('id', '=', id).execute();
}

export interface PollState {
  status: DecoupledRequestStatus;
  expired: boolean;
  /** Seconds since the previous poll, or null for the first. */
  sincePreviousPoll: number | null;
}

/** Notes a poll of the TPP's request and returns what it found before; undefined when the request is not this client's. */
export async function notePoll(db: Db, authReqId: string, clientId: string): Promise<PollState | undefined> {
  const result = await sql<{ status: DecoupledRequestStatus; expired: boolean; since: number | null }>`
    with previous as (
      select id, status, expires_at, last_polled_at from decoupled_request
      where auth_req_id = ${authReqId} and client_id = ${clientId}
      for update
    )
    update decoupled_request d set last_polled_at = clock_timestamp()
    from previous where d.id = previous.id
    returning previous.status, previous.expires_at <= now() as expired,
      extract(epoch from clock_timestamp() - previous.last_polled_at)::float8 as since`.execute(db);
  const row = result.rows[0];
  return row && { status: row.status, expired: row.expired, sincePreviousPoll: row.since };
}

/** Rows a day past their expiry: nothing reads them any more. */
export async function sweepDecoupledRequests(db: Db): Promise<number> {
  const result = await db
    .deleteFrom('decoupled_request')
    .where('expires_at', '<', sql<Date>`now() - interval '1 day'`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

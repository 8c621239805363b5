import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';

const secondsFromNow = (seconds: number) => sql<Date>`now() + ${seconds} * interval '1 second'`;

export function insertLogin(db: Db, row: { idHash: string; codeVerifier: string; state: string; nonce: string; ttlSeconds: number }) {
  return db
    .insertInto('dashboard_login')
    .values({
      id_hash: row.idHash,
      code_verifier: row.codeVerifier,
      state: row.state,
      nonce: row.nonce,
      expires_at: secondsFromNow(row.ttlSeconds),
    })
    .execute();
}

/** Deletes and returns a live pending sign-in: each one completes at most once. */
export function takeLogin(db: Db, idHash: string) {
  return db
    .deleteFrom('dashboard_login')
    .where('id_hash', '=', idHash)
    .where('expires_at', '>', sql<Date>`now()`)
    .returning(['code_verifier', 'state', 'nonce'])
    .executeTakeFirst();
}

export function insertSession(db: Db, row: { idHash: string; customerId: string; acr: string | null; lifetimeSeconds: number }) {
  return db
    .insertInto('dashboard_session')
    .values({ id_hash: row.idHash, customer_id: row.customerId, acr: row.acr, expires_at: secondsFromNow(row.lifetimeSeconds) })
    .execute();
}

/** Marks a session seen and returns it, only while it is within both its idle timeout and its lifetime. */
export function touchLiveSession(db: Db, idHash: string, idleSeconds: number) {
  return db
    .updateTable('dashboard_session')
    .set({ last_seen_at: sql<Date>`now()` })
    .where('id_hash', '=', idHash)
    .where('expires_at', '>', sql<Date>`now()`)
    .where('last_seen_at', '>', sql<Date>`now() - ${idleSeconds} * interval '1 second'`)
    .returning(['customer_id', 'acr', 'expires_at'])
    .executeTakeFirst();
}

export function deleteSession(db: Db, idHash: string) {
  return db.deleteFrom('dashboard_session').where('id_hash', '=', idHash).execute();
}

/** Removes sign-ins that never came back and sessions past their lifetime or idle timeout. */
export async function deleteExpired(db: Db, idleSeconds: number): Promise<number> {
  const logins = await db
    .deleteFrom('dashboard_login')
    .where('expires_at', '<=', sql<Date>`now()`)
    .executeTakeFirst();
  const sessions = await db
    .deleteFrom('dashboard_session')
    .where((eb) =>
      eb.or([eb('expires_at', '<=', sql<Date>`now()`), eb('last_seen_at', '<=', sql<Date>`now() - ${idleSeconds} * interval '1 second'`)]),
    )
    .executeTakeFirst();
  return Number(logins.numDeletedRows) + Number(sessions.numDeletedRows);
}

export function findSessionIdsOfCustomer(db: Db, customerId: string) {
  return db.selectFrom('dashboard_session').select('id_hash').where('customer_id', '=', customerId).execute();
}

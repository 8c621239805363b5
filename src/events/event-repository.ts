import { type Kysely, sql, type Transaction } from 'kysely';
import type { ConsentEventRow, Database, EventPushState } from '../db/schema.ts';

type Executor = Kysely<Database> | Transaction<Database>;

/** A claimed event with where it goes now (null when the TPP has since dropped its callback URL). */
export type ClaimedEvent = ConsentEventRow & { callback_url: string | null };

/**
 * Claims events due for push: the earliest undelivered event of each consent. A later one waits while
 * an earlier one is pending or dead, so each consent's events arrive in order even when one of them
 * went to the dead letters: the operator's redelivery (or the TPP acknowledging it by polling) lets the
 * rest follow. Other consents' events keep flowing. Rows are locked with SKIP LOCKED so several
 * instances never claim one row, and leased by pushing next_attempt_at past the lease so a crashed
 * deliverer's claim comes back by itself. Each claim is an attempt: an event that has had
 * `maxAttempts` is never claimed again (see deadLetterUnanswered). No transaction stays open during
 * the HTTP call.
 */
export async function claimDueForPush(
  db: Executor,
  options: { limit: number; leaseSeconds: number; maxAttempts: number },
): Promise<ClaimedEvent[]> {
  const result = await sql<ClaimedEvent>`
    update consent_event e
       set next_attempt_at = now() + ${options.leaseSeconds} * interval '1 second',
           attempts = e.attempts + 1,
           updated_at = now()
      from (
        select c.id from consent_event c
         where c.push_state = 'pending'
           and c.next_attempt_at <= now()
           and c.attempts < ${options.maxAttempts}
           and not exists (
             select 1 from consent_event p
              where p.consent_id = c.consent_id and p.consent_seq < c.consent_seq and p.push_state in ('pending', 'dead'))
         order by c.seq
         limit ${options.limit}
         for update skip locked
      ) due
     where e.id = due.id
    returning e.*, (select s.callback_url from event_subscription s where s.client_id = e.client_id) as callback_url`.execute(db);
  return result.rows;
}

/**
 * Dead-letters events whose last attempt's lease ran out with no outcome recorded (its deliverer
 * crashed, or the push outlived the lease): claiming them again would be one attempt too many. A
 * deliverer still waiting on that push may yet record it delivered. Returns what it dead-lettered.
 */
export async function deadLetterUnanswered(
  db: Executor,
  maxAttempts: number,
): Promise<Pick<ConsentEventRow, 'id' | 'client_id' | 'consent_id' | 'attempts'>[]> {
  return db
    .updateTable('consent_event')
    .set({
      push_state: 'dead',
      next_attempt_at: null,
      last_error: 'no outcome of the last attempt was recorded before its lease ran out',
      updated_at: sql<Date>`now()`,
    })
    .where('push_state', '=', 'pending')
    .where('next_attempt_at', '<=', sql<Date>`now()`)
    .where('attempts', '>=', maxAttempts)
    .returning(['id', 'client_id', 'consent_id', 'attempts'])
    .execute();
}

/** The TPP accepted the pushed event: it counts as acknowledged, so polling no longer returns it. */
export async function markDelivered(db: Executor, id: string): Promise<void> {
  await db
    .updateTable('consent_event')
    .set({
      push_state: 'delivered',
      delivered_at: sql<Date>`now()`,
      acknowledged_at: sql<Date>`coalesce(acknowledged_at, now())`,
      last_error: null,
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .execute();
}

/**
 * A failed attempt: try again at `retryAt`, or give up (dead letter) when it is null. Only the claim
 * that made the attempt may record it (its `attempts` is the fence): a deliverer whose lease ran out
 * and was claimed again, or whose event was delivered meanwhile, changes nothing.
 */
export async function markAttemptFailed(
  db: Executor,
  claim: { id: string; attempts: number },
  error: string,
  retryAt: Date | null,
): Promise<void> {
  await db
    .updateTable('consent_event')
    .set({
      push_state: retryAt ? 'pending' : 'dead',
      next_attempt_at: retryAt,
      last_error: error.slice(0, 500),
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', claim.id)
    .where('attempts', '=', claim.attempts)
    .where('push_state', '=', 'pending')
    .execute();
}

/** The TPP no longer has a callback URL: the event stays for polling only. */
export async function markNotPushed(db: Executor, id: string): Promise<void> {
  await db
    .updateTable('consent_event')
    .set({ push_state: 'none', next_attempt_at: null, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .execute();
}

/** An event the TPP has acknowledged by polling is not pushed any more. */
const acknowledged = {
  acknowledged_at: sql<Date>`coalesce(acknowledged_at, now())`,
  push_state: sql<EventPushState>`case when push_state = 'delivered' then push_state else 'none' end`,
  updated_at: sql<Date>`now()`,
};

/** Acknowledges this TPP's events among `ids`; other TPPs' ids and unknown ids change nothing. */
export async function acknowledgeEvents(trx: Transaction<Database>, clientId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await trx.updateTable('consent_event').set(acknowledged).where('client_id', '=', clientId).where('id', 'in', ids).execute();
}

/** RFC 8936 setErrs: the TPP could not process these; they count as acknowledged, with its error kept. */
export async function recordRecipientError(
  trx: Transaction<Database>,
  clientId: string,
  id: string,
  error: { err: string; description: string },
): Promise<void> {
  await trx
    .updateTable('consent_event')
    .set({ ...acknowledged, recipient_error: JSON.stringify(error) })
    .where('client_id', '=', clientId)
    .where('id', '=', id)
    .execute();
}

/** A TPP's unacknowledged events, oldest first. */
export function unacknowledgedEvents(db: Executor, clientId: string, limit: number): Promise<ConsentEventRow[]> {
  return db
    .selectFrom('consent_event')
    .selectAll()
    .where('client_id', '=', clientId)
    .where('acknowledged_at', 'is', null)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/** Deletes events acknowledged (or delivered) before `before`; dead and unacknowledged ones stay. */
export async function deleteSettledEvents(db: Executor, before: Date): Promise<number> {
  const result = await db.deleteFrom('consent_event').where('acknowledged_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Events whose push gave up, oldest first; optionally one TPP's. Each with how many later events of its
 * consent wait behind it (claimDueForPush does not push them while it is dead).
 */
export function deadEvents(
  db: Executor,
  options: { clientId?: string | undefined; limit: number },
): Promise<(ConsentEventRow & { held_back: number })[]> {
  let query = db
    .selectFrom('consent_event as dead')
    .selectAll('dead')
    .select(
      sql<number>`(select count(*)::int from consent_event later
                    where later.consent_id = dead.consent_id and later.consent_seq > dead.consent_seq and later.push_state = 'pending')`.as(
        'held_back',
      ),
    )
    .where('dead.push_state', '=', 'dead');
  if (options.clientId) query = query.where('dead.client_id', '=', options.clientId);
  return query.orderBy('dead.seq').limit(options.limit).execute();
}

/** Puts dead events back in the push queue with fresh attempts; returns which (id and TPP). */
export async function requeueDeadEvents(
  db: Executor,
  options: { clientId?: string | undefined; ids?: readonly string[] | undefined },
): Promise<{ id: string; client_id: string }[]> {
  if (options.ids?.length === 0) return [];
  let query = db
    .updateTable('consent_event')
    .set({ push_state: 'pending', attempts: 0, next_attempt_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
    .where('push_state', '=', 'dead')
    .where('acknowledged_at', 'is', null);
  if (options.clientId) query = query.where('client_id', '=', options.clientId);
  if (options.ids) query = query.where('id', 'in', options.ids);
  return query.returning(['id', 'client_id']).execute();
}

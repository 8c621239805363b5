import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { InteractionDecision } from '../db/schema.ts';

/**
 * Where a customer is in strong authentication within one interaction, and when they last did
 * anything there: PSD2 RTS Art. 4 ends a session after at most 5 minutes without activity.
 */

export type ScaProgress = { state: 'active'; passwordVerifiedFor: string | undefined } | { state: 'timed_out' };

/** Rows outlive the longest interaction; the sweep removes them afterwards. */
const RETENTION_SECONDS = 3600;

/** For `touchScaProgressReading` when a step needs nothing read alongside. */
export const nothingAlongside = () => sql<Record<string, never>>`select`;

/** A decision the customer already took on the interaction (src/interactions/decision-repository.ts). */
export interface TakenDecision {
  decision: InteractionDecision;
  clientId: string;
}

/**
 * Records activity on the interaction, unless it has already been idle longer than `idleSeconds`: one
 * statement (the first request inserts the row; a later one moves last_seen_at only while within the
 * limit), so a timed-out interaction is answered without a write and a live one in one round trip. The
 * same statement reads the interaction itself (`interaction`: a scalar subquery of its row, BatchedFind.within,
 * read into the common table `found`, column `row`, null when there is none), records activity only while
 * it lives, and returns its row as `found`; and it reads `alongside` (a query of exactly one row, which may
 * read from `found`, such as what the page about to be rendered shows; `nothingAlongside` for none) and the
 * decision already taken on the interaction, if any (whether or not the interaction timed out).
 */
export async function touchScaProgressReading<T extends object, F>(
  db: Db,
  uid: string,
  idleSeconds: number,
  interaction: RawBuilder<F | null>,
  alongside: RawBuilder<T>,
  now = new Date(),
): Promise<{ progress: ScaProgress; alongside: T; decided: TakenDecision | undefined; found: F | null }> {
  const expiresAt = new Date(now.getTime() + RETENTION_SECONDS * 1000);
  const activeSince = new Date(now.getTime() - idleSeconds * 1000);
  const { rows } = await sql<
    T & {
      sca_active: boolean | null;
      sca_customer_id: string | null;
      sca_password_verified_at: Date | null;
      sca_decision: InteractionDecision | null;
      sca_decided_for: string | null;
      sca_found: F | null;
    }
  >`
    with found as (select ${interaction} as row),
    touched as (
      insert into sca_interaction (uid, last_seen_at, expires_at)
      select ${uid}::text, ${now}::timestamptz, ${expiresAt}::timestamptz where exists (select 1 from found where row is not null)
      on conflict (uid) do update set last_seen_at = excluded.last_seen_at where sca_interaction.last_seen_at >= ${activeSince}
      returning customer_id, password_verified_at
    )
    select alongside.*, touched.sca_active, touched.sca_customer_id, touched.sca_password_verified_at, decided.sca_decision, decided.sca_decided_for, (select row from found) as sca_found
    from (${alongside}) as alongside
    left join (select true as sca_active, customer_id as sca_customer_id, password_verified_at as sca_password_verified_at from touched) as touched on true
    left join (select decision as sca_decision, client_id as sca_decided_for from sca_interaction where uid = ${uid}) as decided on true`.execute(
    db,
  );
  const {
    sca_active: active,
    sca_customer_id: customerId,
    sca_password_verified_at: passwordVerifiedAt,
    sca_decision: decision,
    sca_decided_for: decidedFor,
    sca_found: found,
    ...rest
  } = rows[0]!;
  const progress: ScaProgress = active
    ? { state: 'active', passwordVerifiedFor: passwordVerifiedAt ? (customerId ?? undefined) : undefined }
    : { state: 'timed_out' };
  return {
    progress,
    alongside: rest as unknown as T,
    decided: decision && decidedFor ? { decision, clientId: decidedFor } : undefined,
    found,
  };
}

/** The customer who passed the password step of interaction `uid` (null before), as a scalar subquery. */
export function passwordFactorCustomerQuery(uid: string) {
  return sql<string | null>`(select customer_id from sca_interaction where uid = ${uid} and password_verified_at is not null)`;
}

export async function recordPasswordFactor(db: Db, uid: string, customerId: string, now = new Date()): Promise<void> {
  await db.updateTable('sca_interaction').set({ customer_id: customerId, password_verified_at: now }).where('uid', '=', uid).execute();
}

/** After a lockout the customer starts again from the password. */
export async function forgetPasswordFactor(db: Db, uid: string): Promise<void> {
  await db.updateTable('sca_interaction').set({ customer_id: null, password_verified_at: null }).where('uid', '=', uid).execute();
}

export async function sweepScaProgress(db: Db, now = new Date()): Promise<number> {
  const result = await db.deleteFrom('sca_interaction').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

import { type SqlBool, type Transaction, sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { Database, InteractionDecision } from '../db/schema.ts';
import { type ModelRow, upsertModelRowsWhere } from '../store/model-upsert.ts';
import type { TakenDecision } from './sca-progress-repository.ts';

/**
 * A decision on an interaction is taken once. The customer's approve or deny claims the decision on
 * the interaction's progress row together with what the decision writes: in one statement with the
 * provider's rows (the grant, the interaction result) when nothing else changes, or first in the
 * transaction that changes a consent too. Concurrent posts wait on the row lock, find the decision
 * taken and answer with its outcome; a post after the TPP was sent on is told the request was already
 * decided.
 */

export type { InteractionDecision } from '../db/schema.ts';

/** The claim: an update that finds the row only while no decision is recorded (re-checked after a wait on its lock). */
function claim(db: Db, uid: string, decision: InteractionDecision, clientId: string) {
  return db
    .updateTable('sca_interaction')
    .set({ decision, client_id: clientId, decided_at: new Date() })
    .where('uid', '=', uid)
    .where('decision', 'is', null)
    .returning('uid');
}

/** True when this call took the decision; false when another post already had (or has just) taken it. */
export async function claimDecision(
  trx: Transaction<Database>,
  uid: string,
  decision: InteractionDecision,
  clientId: string,
): Promise<boolean> {
  return (await claim(trx, uid, decision, clientId).executeTakeFirst()) !== undefined;
}

/**
 * Claims the decision and, only if this call took it, upserts `rows` (held from the provider's
 * models, store/held-upserts.ts), in one statement: atomic on its own, so there is no transaction to
 * open or commit, and a lost claim writes nothing. True when this call took the decision.
 */
export async function claimDecisionWriting(
  db: Db,
  uid: string,
  decision: InteractionDecision,
  clientId: string,
  rows: readonly ModelRow[],
): Promise<boolean> {
  const claimed = await db
    .with('claimed', () => claim(db, uid, decision, clientId))
    // A data-modifying CTE runs to completion whether or not the main query reads it.
    .with('written', () => upsertModelRowsWhere(db, rows, sql<SqlBool>`exists (select 1 from claimed)`).returning('id'))
    .selectFrom('claimed')
    .select('uid')
    .executeTakeFirst();
  return claimed !== undefined;
}

export async function decisionOf(db: Db, uid: string): Promise<TakenDecision | undefined> {
  const row = await db.selectFrom('sca_interaction').select(['decision', 'client_id']).where('uid', '=', uid).executeTakeFirst();
  return row?.decision && row.client_id ? { decision: row.decision, clientId: row.client_id } : undefined;
}

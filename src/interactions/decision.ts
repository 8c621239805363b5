import type { Transaction } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { Database, InteractionDecision } from '../db/schema.ts';
import type { TakenDecision } from './sca-progress.ts';

/**
 * A decision on an interaction is taken once. The customer's approve or deny claims the decision on
 * the interaction's progress row in the same transaction as the consent change, the grant and the
 * interaction result: concurrent posts wait on the row lock, find the decision taken and answer with
 * its outcome; a post after the TPP was sent on is told the request was already decided.
 */

export type { InteractionDecision } from '../db/schema.ts';

/** True when this call took the decision; false when another post already had (or has just) taken it. */
export async function claimDecision(trx: Transaction<Database>, uid: string, decision: InteractionDecision, clientId: string): Promise<boolean> {
  const claimed = await trx
    .updateTable('sca_interaction')
    .set({ decision, client_id: clientId, decided_at: new Date() })
    .where('uid', '=', uid)
    .where('decision', 'is', null)
    .returning('uid')
    .executeTakeFirst();
  return claimed !== undefined;
}

export async function decisionOf(db: Db, uid: string): Promise<TakenDecision | undefined> {
  const row = await db.selectFrom('sca_interaction').select(['decision', 'client_id']).where('uid', '=', uid).executeTakeFirst();
  return row?.decision && row.client_id ? { decision: row.decision, clientId: row.client_id } : undefined;
}

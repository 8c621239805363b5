import type { Db } from '../db/connect.ts';
import { deleteSettledEvents } from './event-repository.ts';

/** How long an acknowledged event is kept (for the operator's questions) before the sweep deletes it. */
const SETTLED_EVENT_RETENTION_DAYS = 30;

/**
 * The periodic sweep's part for the outbox: events the TPP acknowledged (or accepted by push) more than
 * 30 days ago. Dead letters and unacknowledged events stay until someone deals with them.
 */
export function sweepSettledEvents(db: Db, now = new Date()): Promise<number> {
  return deleteSettledEvents(db, new Date(now.getTime() - SETTLED_EVENT_RETENTION_DAYS * 86_400_000));
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { Provider } from 'oidc-provider';
import type { Db } from '../db/connect.ts';
import { acknowledgeEvents, recordRecipientError, unacknowledgedEvents } from './event-repository.ts';
import { signSecurityEvent } from './security-event-token.ts';

/**
 * Aggregated polling (UK OB Event Notification API, RFC 8936): the TPP acknowledges what it has
 * processed, reports what it could not, and receives its oldest unacknowledged events as signed
 * SETs. A TPP only ever touches its own events: other ids in ack or setErrs change nothing.
 */

export interface PollRequest {
  ack: readonly string[];
  setErrs: Readonly<Record<string, { err: string; description: string }>>;
  /** How many SETs to return at most; 0 only acknowledges. */
  maxEvents: number;
  /** false: wait (up to the server's long-poll limit) for an event when none is available. */
  returnImmediately: boolean;
}

export interface PollResponse {
  sets: Record<string, string>;
  moreAvailable: boolean;
}

export interface PollingDeps {
  db: Db;
  provider: Provider;
  /** The longest a request with returnImmediately=false waits for an event. */
  longPollMs: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LONG_POLL_STEP_MS = 250;

export async function pollEvents(deps: PollingDeps, clientId: string, request: PollRequest): Promise<PollResponse> {
  const { db } = deps;
  // An id that is not a jti Assent issued names nothing; it is ignored, as RFC 8936 allows.
  const ack = request.ack.filter((id) => UUID.test(id));
  const errors = Object.entries(request.setErrs).filter(([id]) => UUID.test(id));
  if (ack.length > 0 || errors.length > 0) {
    await db.transaction().execute(async (trx) => {
      await acknowledgeEvents(trx, clientId, ack);
      for (const [id, error] of errors) await recordRecipientError(trx, clientId, id, error);
    });
  }
  const deadline = Date.now() + (request.returnImmediately ? 0 : deps.longPollMs);
  let events = await unacknowledgedEvents(db, clientId, request.maxEvents + 1);
  while (events.length === 0 && request.maxEvents > 0 && Date.now() < deadline) {
    await sleep(Math.min(LONG_POLL_STEP_MS, deadline - Date.now()));
    events = await unacknowledgedEvents(db, clientId, request.maxEvents + 1);
  }
  const returned = events.slice(0, request.maxEvents);
  const sets: Record<string, string> = {};
  for (const event of returned) sets[event.id] = await signSecurityEvent(deps.provider, event);
  return { sets, moreAvailable: events.length > returned.length };
}

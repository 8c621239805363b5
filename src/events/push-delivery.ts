import { randomUUID } from 'node:crypto';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Db } from '../db/connect.ts';
import type { OutboundFetch } from '../http/outbound-fetch.ts';
import {
  type ClaimedEvent,
  claimDueForPush,
  deadLetterUnanswered,
  markAttemptFailed,
  markDelivered,
  markNotPushed,
} from './event-repository.ts';
import { signSecurityEvent } from './security-event-token.ts';

/**
 * Push delivery (UK OB real-time event notifications, RFC 8935): a loop in every server process
 * claims due events (event-repository.ts: SKIP LOCKED, leased, ordered per consent, a dead one holding
 * back its consent's later ones), POSTs each SET to the TPP's callback URL through the SSRF guard, and
 * settles it: delivered on 2xx, retried with exponential backoff otherwise, dead-lettered after the
 * last attempt or on a refusal that a retry cannot change. At least once: an event whose outcome was
 * not recorded (crash) is sent again when its lease runs out, with the same jti, unless that was its
 * last attempt: no event is pushed more than maxAttempts times (an operator's redelivery starts afresh).
 */

export interface PushSettings {
  /** How often an idle process looks for due events. */
  pollIntervalMs: number;
  /** Attempts before an event is dead-lettered. */
  maxAttempts: number;
  /** The first retry waits this long; each later one twice as long as the one before, up to the cap. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Events claimed per round. */
  batchSize: number;
  /** How long a claim holds: longer than one outbound request may take. */
  leaseSeconds: number;
}

export interface PushDeps {
  db: Db;
  provider: Provider;
  outbound: OutboundFetch;
  logger: Logger;
  settings: PushSettings;
}

/** The wait before the next attempt, after `attempts` failed ones. */
function backoffDelayMs(attempts: number, settings: Pick<PushSettings, 'backoffBaseMs' | 'backoffMaxMs'>): number {
  return Math.min(settings.backoffBaseMs * 2 ** Math.max(0, attempts - 1), settings.backoffMaxMs);
}

/** A 4xx other than timeout, too early or too many requests: the TPP refuses this SET, and will again. */
const refusesForGood = (status: number) => status >= 400 && status < 500 && ![408, 425, 429].includes(status);

class PushFailed extends Error {
  override name = 'PushFailed';
  readonly final: boolean;
  constructor(message: string, final = false) {
    super(message);
    this.final = final;
  }
}

async function push(deps: PushDeps, event: ClaimedEvent & { callback_url: string }) {
  const set = await signSecurityEvent(deps.provider, event);
  const response = await deps.outbound.request(event.callback_url, {
    method: 'POST',
    headers: { 'content-type': 'application/jwt', accept: 'application/json', 'x-fapi-interaction-id': randomUUID() },
    body: set,
  });
  if (response.status >= 200 && response.status < 300) return;
  const detail = response.body.toString('utf8').slice(0, 200);
  throw new PushFailed(`the callback URL answered ${response.status}${detail ? `: ${detail}` : ''}`, refusesForGood(response.status));
}

async function deliverOne(deps: PushDeps, event: ClaimedEvent): Promise<void> {
  const { db, logger, settings } = deps;
  if (event.callback_url === null) return markNotPushed(db, event.id);
  try {
    await push(deps, { ...event, callback_url: event.callback_url });
    await markDelivered(db, event.id);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const final = (error instanceof PushFailed && error.final) || event.attempts >= settings.maxAttempts;
    const retryAt = final ? null : new Date(Date.now() + backoffDelayMs(event.attempts, settings));
    await markAttemptFailed(db, event, message, retryAt);
    const fields = { eventId: event.id, clientId: event.client_id, consentId: event.consent_id, attempts: event.attempts, error: message };
    if (final) logger.warn(fields, 'event notification dead-lettered');
    else logger.info({ ...fields, retryAt }, 'event notification push failed; will retry');
  }
}

/** One round: claims what is due and delivers it; returns how many events it claimed. */
export async function deliverDueEvents(deps: PushDeps): Promise<number> {
  const { maxAttempts, batchSize, leaseSeconds } = deps.settings;
  for (const event of await deadLetterUnanswered(deps.db, maxAttempts)) {
    deps.logger.warn(
      { eventId: event.id, clientId: event.client_id, consentId: event.consent_id, attempts: event.attempts },
      'event notification dead-lettered: its last attempt has no recorded outcome',
    );
  }
  const claimed = await claimDueForPush(deps.db, { limit: batchSize, leaseSeconds, maxAttempts });
  // Each claimed event is the earliest undelivered one of its consent, so they may go out in parallel.
  await Promise.all(claimed.map((event) => deliverOne(deps, event)));
  return claimed.length;
}

/** Starts the delivery loop; `stop` ends it after the round in progress. */
export function startEventDelivery(deps: PushDeps): { stop(): Promise<void> } {
  const state = { stopped: false };
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const pause = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, deps.settings.pollIntervalMs);
    });
  const loop = (async () => {
    while (!state.stopped) {
      try {
        // A full round may have left more behind (a consent's next event): go again at once.
        if ((await deliverDueEvents(deps)) > 0) continue;
      } catch (error) {
        deps.logger.warn({ err: error }, 'event notification delivery round failed');
      }
      if (!state.stopped) await pause();
    }
  })();
  return {
    async stop() {
      state.stopped = true;
      clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { listDeadLetters } from '../src/events/dead-letters.ts';
import { deliverDueEvents } from '../src/events/push-delivery.ts';
import { createOutboundFetch } from '../src/http/outbound-fetch.ts';
import { createLogger } from '../src/logger.ts';
import { EVENT_API_PATHS, OB_API_PREFIX as API } from '../src/protocol/routes.ts';
import { type TestAssent, startTestAssent } from './support/assent.ts';
import { ConsentApiClient } from './support/consent-api.ts';
import { EventReceiver } from './support/event-receiver.ts';
import { customerWithAccounts, grantConsent } from './support/granted-consents.ts';
import { runAdmin } from './support/onboarding.ts';
import { createTestTpp, type TestTpp } from './support/tpp.ts';

const MAX_ATTEMPTS = 3;

const eventsOf = (assent: TestAssent, consentId: string) =>
  assent.db.selectFrom('consent_event').selectAll().where('consent_id', '=', consentId).orderBy('seq').execute();

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const deadLettersOf = async (assent: TestAssent, clientId: string, consentId: string) =>
  (await listDeadLetters(assent.db, { clientId })).filter((dead) => dead.consentId === consentId);

describe('push delivery over a consent\'s life: attempts within their maximum', () => {
  let assent: TestAssent;
  let tpp: TestTpp;
  let api: ConsentApiClient;
  let receiver: EventReceiver;

  before(async () => {
    // Few attempts and short waits, so an event goes dead in well under a second.
    assent = await startTestAssent({ OUTBOUND_ALLOWED_HOSTS: 'localhost', EVENT_PUSH_INTERVAL_MS: '20', EVENT_PUSH_BACKOFF_MS: '20', EVENT_PUSH_MAX_ATTEMPTS: String(MAX_ATTEMPTS) });
    tpp = await createTestTpp(assent);
    api = await ConsentApiClient.create(assent, tpp);
    receiver = await EventReceiver.start(assent);
    const registered = await api.call('POST', `${API}${EVENT_API_PATHS.callbackUrls}`, { body: { Data: { Url: receiver.url, Version: '3.1' } } });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
  });
  after(async () => {
    await receiver?.stop();
    await assent?.stop();
  });

  test('no event is attempted past its maximum, even when its leases lapse while pushes are in flight', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    // Every answer comes late and is a failure: each push outlives the leases lapsed below.
    receiver.answer = async () => {
      await sleep(300);
      return 503;
    };
    const granted = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current] });
    const [event] = await eventsOf(assent, granted.consentId);
    // A lease that runs out before its push answers (a slow receiver, a paused process) is what lapsing
    // it by hand plays; three more deliverers, as other instances would, claim it again as soon as it has.
    const running = { on: true };
    const lapse = (async () => {
      while (running.on) {
        await sql`update consent_event set next_attempt_at = now() where id = ${event!.id} and push_state = 'pending'`.execute(assent.db);
        await sleep(50);
      }
    })();
    const deps = {
      db: assent.db,
      provider: assent.provider,
      outbound: createOutboundFetch({ allowedHosts: ['localhost'], connectTimeoutMs: 2000, totalTimeoutMs: 4000, maxResponseBytes: 4096, extraCaPem: assent.ca.certPem }),
      logger: createLogger('silent'),
      settings: { pollIntervalMs: 10, maxAttempts: MAX_ATTEMPTS, backoffBaseMs: 20, backoffMaxMs: 50, batchSize: 8, leaseSeconds: 30 },
    };
    const instances = [1, 2, 3].map(async () => {
      while (running.on) {
        await deliverDueEvents(deps);
        await sleep(10);
      }
    });
    try {
      // Dead, or (before the fix) pushed again and again: either way, long enough to count.
      await waitUntil('the event dead', async () => (await deadLettersOf(assent, tpp.clientId, granted.consentId)).length === 1, 3_000).catch(() => undefined);
      await sleep(500);
    } finally {
      running.on = false;
      await Promise.all([lapse, ...instances]);
    }
    const pushes = receiver.attempts.filter((attempt) => attempt.claims.jti === event!.id);
    const [stored] = await eventsOf(assent, granted.consentId);
    assert.equal(pushes.length, MAX_ATTEMPTS, `pushed ${pushes.length} times`);
    assert.equal(stored!.attempts, MAX_ATTEMPTS);
    assert.equal(stored!.push_state, 'dead');

    // The operator's redelivery is a new run, with its own maximum.
    receiver.answer = 503;
    await runAdmin(assent, ['events:redeliver', '--events', event!.id]);
    await waitUntil('the event dead again', async () => (await deadLettersOf(assent, tpp.clientId, granted.consentId)).length === 1);
    await sleep(300);
    assert.equal(receiver.attempts.filter((attempt) => attempt.claims.jti === event!.id).length, 2 * MAX_ATTEMPTS);
    receiver.answer = 202;
  });
});

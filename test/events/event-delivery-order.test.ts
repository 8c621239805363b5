import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { sql } from 'kysely';
import { FileMigrationProvider, Migrator } from 'kysely/migration';
import { revokeConsent } from '../../src/consents/consent-service.ts';
import { connectDatabase } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { listDeadLetters } from '../../src/events/dead-letters.ts';
import { deliverDueEvents } from '../../src/events/push-delivery.ts';
import { createOutboundFetch } from '../../src/http/outbound-fetch.ts';
import { createLogger } from '../../src/logger.ts';
import { recordConsentChange } from '../../src/outbox/outbox.ts';
import { CONSENT_AUTHORIZATION_REVOKED, RESOURCE_UPDATE } from '../../src/protocol/event-types.ts';
import { EVENT_API_PATHS, OB_API_PREFIX as API } from '../../src/protocol/routes.ts';
import { type TestAssent } from '../support/assent.ts';
import { createTestDatabase } from '../support/database.ts';
import { EventReceiver, subjectId } from '../support/event-receiver.ts';
import { customerWithAccounts, grantConsent } from '../support/granted-consents.ts';
import { runAdmin } from '../support/onboarding.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';

const MAX_ATTEMPTS = 3;
const ORDER_MIGRATION = '2026_12_07_1000_consent_event_order';
const PREVIOUS_MIGRATION = '2026_11_29_2200_audit_append';

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

describe("push delivery over a consent's life: order past dead letters, attempts within their maximum", () => {
  let receiver: EventReceiver;

  // Few attempts and short waits, so an event goes dead in well under a second.
  const assent = useAssent({
    OUTBOUND_ALLOWED_HOSTS: 'localhost',
    EVENT_PUSH_INTERVAL_MS: '20',
    EVENT_PUSH_BACKOFF_MS: '20',
    EVENT_PUSH_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
  });
  const tpp = useTpp(assent);
  const api = useConsentApi(assent, tpp);
  before(async () => {
    receiver = await EventReceiver.start(assent);
    const registered = await api.call('POST', `${API}${EVENT_API_PATHS.callbackUrls}`, {
      body: { Data: { Url: receiver.url, Version: '3.1' } },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
  });
  after(async () => {
    await receiver?.stop();
  });

  test('a dead event holds back the later events of its consent only; redelivery sends all in order, numbered per consent', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    // The consent's id is known only once its first event exists: refuse everything until then.
    const refused = new Set<string>();
    let refuseAll = true;
    receiver.answer = (event) => (refuseAll || refused.has(String(event.claims.jti)) ? 503 : 202);
    const held = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current] });
    const [first] = await waitUntil('the first event dead after its attempts', async () => {
      const dead = await deadLettersOf(assent, tpp.clientId, held.consentId);
      return dead.length === 1 && dead;
    });
    assert.equal(first!.attempts, MAX_ATTEMPTS);
    refused.add(first!.eventId);
    refuseAll = false;

    await revokeConsent(assent.db, { consentId: held.consentId, actor: { kind: 'customer', id: customer.id } });
    // Another consent's event, due after the revocation's two: once it has been pushed, every round that
    // could have pushed those two has run.
    const flowing = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current] });
    await receiver.waitFor(1, flowing.consentId);
    const [, update, revoked] = await eventsOf(assent, held.consentId);
    assert.deepEqual([update!.attempts, revoked!.attempts], [0, 0], 'the later events of the consent wait behind its dead one');
    assert.deepEqual(
      receiver.received.filter((event) => subjectId(event) === held.consentId),
      [],
    );
    assert.deepEqual(
      (await deadLettersOf(assent, tpp.clientId, held.consentId)).map((dead) => [dead.eventId, dead.heldBack]),
      [[first!.eventId, 2]],
      'the operator sees what it holds back',
    );

    // A polling receiver sees all three, with what orders them.
    const polled = await api.call('POST', `${API}${EVENT_API_PATHS.events}`, { body: { returnImmediately: true, maxEvents: 100 } });
    const sets = Object.values((polled.body as { sets: Record<string, string> }).sets)
      .map((set) => decodeJwt(set))
      .filter((claims) => claims.jti !== undefined && [first!.eventId, update!.id, revoked!.id].includes(claims.jti));
    assert.deepEqual(
      sets.map((claims) => [claims.jti, claims.consent_seq]),
      [
        [first!.eventId, 1],
        [update!.id, 2],
        [revoked!.id, 3],
      ],
    );

    refused.clear();
    await runAdmin(assent, ['events:redeliver', '--events', first!.eventId]);
    const arrived = await receiver.waitFor(3, held.consentId);
    assert.deepEqual(
      arrived.map((event) => event.claims.jti),
      [first!.eventId, update!.id, revoked!.id],
      'the redelivered event first, then the ones it held back',
    );
    assert.deepEqual(
      arrived.map((event) => Object.keys(event.claims.events)[0]),
      [RESOURCE_UPDATE, RESOURCE_UPDATE, CONSENT_AUTHORIZATION_REVOKED],
    );
    assert.deepEqual(
      arrived.map((event) => event.claims.consent_seq),
      [1, 2, 3],
    );
    const times = arrived.map((event) => event.claims.toe);
    assert.deepEqual(times, times.toSorted(), 'toe never goes back, but is in seconds: two events of one change share it');
    const [other] = await receiver.waitFor(1, flowing.consentId);
    assert.equal(other!.claims.consent_seq, 1, 'each consent counts its own events');
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
      outbound: createOutboundFetch({
        allowedHosts: ['localhost'],
        connectTimeoutMs: 2000,
        totalTimeoutMs: 4000,
        maxResponseBytes: 4096,
        extraCaPem: assent.ca.certPem,
      }),
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
      await waitUntil(
        'the event dead',
        async () => (await deadLettersOf(assent, tpp.clientId, granted.consentId)).length === 1,
        3_000,
      ).catch(() => undefined);
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

  test('an event whose last attempt never reported back (its instance crashed) is dead-lettered when the lease runs out, not pushed again', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    receiver.answer = 503;
    const granted = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current] });
    await waitUntil('the event dead', async () => (await deadLettersOf(assent, tpp.clientId, granted.consentId)).length === 1);
    const [event] = await eventsOf(assent, granted.consentId);
    // The row as a crashed deliverer leaves it once the lease of its last attempt has run out.
    await sql`update consent_event set push_state = 'pending', next_attempt_at = now(), last_error = null where id = ${event!.id}`.execute(
      assent.db,
    );
    const [dead] = await waitUntil('the event dead again', async () => {
      const letters = await deadLettersOf(assent, tpp.clientId, granted.consentId);
      return letters.length === 1 && letters;
    });
    assert.match(dead!.lastError!, /no outcome of the last attempt was recorded/);
    assert.equal(dead!.attempts, MAX_ATTEMPTS);
    await sleep(200);
    assert.equal(receiver.attempts.filter((attempt) => attempt.claims.jti === event!.id).length, MAX_ATTEMPTS);
    receiver.answer = 202;
  });
});

describe('the migration that numbers events per consent', () => {
  test('numbers the events stored before it in emission order, and each consent counts on from there', async () => {
    const database = await createTestDatabase();
    const db = await connectDatabase({ databaseUrl: database.url, dataDir: '' });
    try {
      const migrator = new Migrator({
        db,
        provider: new FileMigrationProvider({ fs, path, migrationFolder: fileURLToPath(new URL('../../migrations', import.meta.url)) }),
      });
      const { error } = await migrator.migrateTo(PREVIOUS_MIGRATION);
      assert.equal(error, undefined);
      const [a, b] = [randomUUID(), randomUUID()];
      for (const consentId of [a, b, a, a]) {
        await sql`insert into consent_event (txn, client_id, consent_id, consent_type, event_type, status, push_state)
                  values (${randomUUID()}, 'tpp', ${consentId}, 'account_access', ${RESOURCE_UPDATE}, 'Authorised', 'none')`.execute(db);
      }
      const applied = await migrator.migrateTo(ORDER_MIGRATION);
      assert.deepEqual(
        applied.results?.map((result) => result.migrationName),
        [ORDER_MIGRATION],
      );
      await migrateToLatest(db);
      const numbered = await db.selectFrom('consent_event').select(['consent_id', 'consent_seq']).orderBy('seq').execute();
      assert.deepEqual(
        numbered.map((row) => [row.consent_id, row.consent_seq]),
        [
          [a, 1],
          [b, 1],
          [a, 2],
          [a, 3],
        ],
      );

      await db.transaction().execute((trx) =>
        recordConsentChange(trx, {
          consentId: a,
          consentType: 'account_access',
          consentStandard: 'uk_ob_v3',
          clientId: 'tpp',
          status: 'Revoked',
          actor: 'customer',
        }),
      );
      const later = await db.selectFrom('consent_event').select('consent_seq').where('consent_id', '=', a).orderBy('seq').execute();
      assert.deepEqual(
        later.map((row) => row.consent_seq),
        [1, 2, 3, 4, 5],
        "a revocation's two events take the next two numbers",
      );
      // The sweep may delete every event of a consent; its next event still takes the next number.
      await db.deleteFrom('consent_event').where('consent_id', '=', b).execute();
      await db.transaction().execute((trx) =>
        recordConsentChange(trx, {
          consentId: b,
          consentType: 'account_access',
          consentStandard: 'uk_ob_v3',
          clientId: 'tpp',
          status: 'Expired',
          actor: 'system',
        }),
      );
      assert.deepEqual(
        (await db.selectFrom('consent_event').select('consent_seq').where('consent_id', '=', b).execute()).map((row) => row.consent_seq),
        [2],
      );
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});

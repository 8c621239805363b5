import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { consumePaymentConsent, expireDueConsents, revokeConsent } from '../../src/consents/consent-service.ts';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { listDeadLetters, redeliverDeadLetters } from '../../src/events/dead-letters.ts';
import { sweepSettledEvents } from '../../src/events/event-retention.ts';
import { EVENT_API_PATHS, OB_API_PREFIX as API } from '../../src/protocol/routes.ts';
import { CONSENT_AUTHORIZATION_REVOKED, RESOURCE_UPDATE } from '../../src/protocol/event-types.ts';
import { deliverDueEvents } from '../../src/events/push-delivery.ts';
import { createOutboundFetch } from '../../src/http/outbound-fetch.ts';
import { createLogger } from '../../src/logger.ts';
import { type TestAssent, tlsAgent } from '../support/assent.ts';
import { ACCOUNT_ACCESS, accountAccessRequest, ConsentApiClient } from '../support/consent-api.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { csrfTokenOf, signInToDashboard } from '../support/dashboard.ts';
import { EventReceiver, subjectId, verifyWithPublishedJwks } from '../support/event-receiver.ts';
import { customerWithAccounts, grantConsent } from '../support/granted-consents.ts';
import { createTestTpp } from '../support/tpp.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';

const { events: EVENTS_PATH, callbackUrls: CALLBACK_URLS_PATH, eventSubscriptions: EVENT_SUBSCRIPTIONS_PATH } = EVENT_API_PATHS;

const eventsOf = (assent: TestAssent, consentId: string) =>
  assent.db.selectFrom('consent_event').selectAll().where('consent_id', '=', consentId).orderBy('seq').execute();

async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function poll(api: ConsentApiClient, body: unknown) {
  const response = await api.call('POST', `${API}${EVENTS_PATH}`, { body });
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body as { sets: Record<string, string>; moreAvailable: boolean };
}

describe('event notifications: outbox, push to a real HTTPS receiver, aggregated polling', () => {
  let receiver: EventReceiver;

  // The SSRF guard refuses loopback unless allowed; the receiver lives on localhost.
  const assent = useAssent({
    OUTBOUND_ALLOWED_HOSTS: 'localhost',
    EVENT_PUSH_INTERVAL_MS: '50',
    EVENT_PUSH_BACKOFF_MS: '200',
    EVENT_PUSH_MAX_ATTEMPTS: '20',
    EVENT_LONG_POLL: '2',
  });
  const alpha = useTpp(assent, { metadata: { client_name: 'Alpha Budgeting' } });
  const beta = useTpp(assent, { metadata: { client_name: 'Beta Payments' } });
  const alphaApi = useConsentApi(assent, alpha);
  const betaApi = useConsentApi(assent, beta);
  before(async () => {
    receiver = await EventReceiver.start(assent);
    const registered = await alphaApi.call('POST', `${API}${CALLBACK_URLS_PATH}`, {
      body: { Data: { Url: receiver.url, Version: '3.1' } },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
  });
  after(async () => {
    await receiver?.stop();
  });

  test('revocation in the dashboard pushes signed SETs, verifiable with the published JWKS, in order', async (t) => {
    const { customer, current } = await customerWithAccounts(assent);
    const granted = await grantConsent(assent, alpha, customer, { type: 'account_access', accounts: [current] });
    const [authorised] = await receiver.waitFor(1, granted.consentId);
    assert.equal(authorised!.claims.events[RESOURCE_UPDATE]?.status, 'Authorised');

    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    await signInToDashboard(browser, assent.issuer, customer);
    const confirm = await browser.open(new URL(`/dashboard/consents/${granted.consentId}/revoke`, assent.issuer));
    const revokedAt = Date.now();
    const receipt = await browser.open(new URL(`/dashboard/consents/${granted.consentId}/revoke`, assent.issuer), {
      form: { csrf_token: csrfTokenOf(confirm) },
    });
    assert.equal(receipt.url.pathname, `/dashboard/consents/${granted.consentId}/receipt`);

    const events = await receiver.waitFor(3, granted.consentId);
    t.diagnostic(`revocation event arrived ${events[2]!.receivedAt - revokedAt} ms after the dashboard answered`);
    assert.deepEqual(
      events.map((event) => Object.keys(event.claims.events)[0]),
      [RESOURCE_UPDATE, RESOURCE_UPDATE, CONSENT_AUTHORIZATION_REVOKED],
      'ordered per consent',
    );
    const [, update, revoked] = events;
    assert.equal(update!.contentType, 'application/jwt');
    assert.equal(update!.claims.txn, revoked!.claims.txn, 'one change, one txn');

    const { payload, protectedHeader } = await verifyWithPublishedJwks(assent, revoked!.set, alpha.clientId);
    assert.equal(protectedHeader.typ, 'secevent+jwt');
    assert.equal(payload.sub, `${assent.issuer}${ACCOUNT_ACCESS}/${granted.consentId}`);
    const body = (payload.events as Record<string, { reason: string; subject: Record<string, unknown> }>)[CONSENT_AUTHORIZATION_REVOKED]!;
    assert.equal(body.reason, 'revoked by the customer at the bank');
    assert.equal(body.subject['http://openbanking.org.uk/rid'], granted.consentId);
    assert.equal(body.subject['http://openbanking.org.uk/rty'], 'account-access-consent');
    const updateClaims = (await verifyWithPublishedJwks(assent, update!.set, alpha.clientId)).payload;
    assert.equal((updateClaims.events as Record<string, { status: string }>)[RESOURCE_UPDATE]!.status, 'Revoked');

    // The receiver has the SET before the deliverer's commit marks it delivered: wait for that commit.
    const rows = await waitUntil('pushed events count as acknowledged', async () => {
      const stored = await eventsOf(assent, granted.consentId);
      return stored.every((row) => row.push_state === 'delivered' && row.acknowledged_at !== null) && stored;
    });
    const polled = await alphaApi.call('POST', `${API}${EVENTS_PATH}`, { body: { returnImmediately: true } });
    assert.deepEqual(
      Object.keys((polled.body as { sets: object }).sets).filter((jti) => rows.some((row) => row.id === jti)),
      [],
      'polling does not repeat delivered events',
    );
  });

  test('a receiver that is down gets the event after it comes back, with the same jti', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const granted = await grantConsent(assent, alpha, customer, { type: 'account_access', accounts: [current] });
    await receiver.waitFor(1, granted.consentId);
    await receiver.stop();

    await revokeConsent(assent.db, { consentId: granted.consentId, actor: { kind: 'customer', id: customer.id } });
    const failed = await waitUntil('a failed push attempt', async () => {
      const rows = await eventsOf(assent, granted.consentId);
      const update = rows[1];
      return update && update.attempts >= 2 && update.last_error !== null && update.push_state === 'pending' && update;
    });
    assert.match(failed.last_error!, /ECONNREFUSED|connect/);
    assert.equal((await eventsOf(assent, granted.consentId))[2]!.attempts, 0, 'the later event waits behind the earlier one');

    await receiver.resume();
    const events = await receiver.waitFor(3, granted.consentId);
    assert.equal(events[1]!.claims.jti, failed.id);
    assert.deepEqual(
      events.slice(1).map((event) => Object.keys(event.claims.events)[0]),
      [RESOURCE_UPDATE, CONSENT_AUTHORIZATION_REVOKED],
    );
  });

  test('a receiver that refuses the SET dead-letters it; the operator sees it and sends it again', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const granted = await grantConsent(assent, alpha, customer, { type: 'account_access', accounts: [current] });
    await receiver.waitFor(1, granted.consentId);
    receiver.answer = 400;
    try {
      await revokeConsent(assent.db, { consentId: granted.consentId, actor: { kind: 'operator', id: null }, reason: 'fraud suspected' });
      await waitUntil('a dead letter', async () =>
        (await listDeadLetters(assent.db, { clientId: alpha.clientId })).some((dead) => dead.consentId === granted.consentId),
      );
    } finally {
      receiver.answer = 202;
    }
    const dead = (await listDeadLetters(assent.db, { clientId: alpha.clientId })).filter(
      (letter) => letter.consentId === granted.consentId,
    );
    assert.match(dead[0]!.lastError!, /answered 400/);
    assert.equal(dead[0]!.attempts, 1, 'a refusal is final at once');
    assert.deepEqual(await listDeadLetters(assent.db, { clientId: beta.clientId }), []);

    // The operator's view and action, through the admin CLI.
    const admin = async (...args: string[]) => {
      const { stdout } = await promisify(execFile)(process.execPath, ['src/cli/admin.ts', ...args], {
        env: { ...process.env, DATABASE_URL: assent.databaseUrl, DATA_DIR: assent.dataDir, DEV_MODE: 'true' },
      });
      return JSON.parse(stdout) as unknown;
    };
    const listed = (await admin('events:dead-letters', '--tpp', alpha.clientId, '--json')) as { eventId: string; lastError: string }[];
    assert.ok(listed.some((letter) => letter.eventId === dead[0]!.eventId && /answered 400/.test(letter.lastError)));
    await assert.rejects(admin('events:redeliver', '--events', 'not-an-id'), /not an event id/);
    await assert.rejects(admin('events:redeliver', '--all', '--tpp', alpha.clientId), /exactly one of/);
    assert.equal(await redeliverDeadLetters(assent.db, { eventIds: [], actor: { kind: 'operator', id: 'test' } }), 0);
    assert.ok(((await admin('events:redeliver', '--tpp', alpha.clientId, '--json')) as { queued: number }).queued >= 1);
    const audited = (await auditHistory(assent.db, 'tpp', alpha.clientId)).find((event) => event.event === 'events.redelivered');
    assert.ok(audited, 'the re-queue is audited on the TPP');
    assert.equal(audited.actor.kind, 'operator');
    assert.ok((audited.details.eventIds as string[]).includes(dead[0]!.eventId));
    const events = await receiver.waitFor(3, granted.consentId);
    const revoked = events.find((event) => event.claims.events[CONSENT_AUTHORIZATION_REVOKED]);
    assert.equal(revoked?.claims.events[CONSENT_AUTHORIZATION_REVOKED]?.reason, 'fraud suspected');
  });

  test('the SSRF guard still stands: a callback URL on a loopback address that is not allowed is never called', async () => {
    const gamma = await createTestTpp(assent);
    const gammaApi = await ConsentApiClient.create(assent, gamma);
    const loopback = receiver.url.replace('localhost', '127.0.0.1');
    assert.equal(
      (await gammaApi.call('POST', `${API}${CALLBACK_URLS_PATH}`, { body: { Data: { Url: loopback, Version: '3.1' } } })).status,
      201,
    );
    const created = await gammaApi.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() });
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const received = receiver.received.length;
    assert.equal((await gammaApi.call('DELETE', `${ACCOUNT_ACCESS}/${consentId}`)).status, 204);
    const refused = await waitUntil('a refused attempt', async () =>
      (await eventsOf(assent, consentId)).find((row) => row.last_error !== null),
    );
    assert.match(refused.last_error!, /127\.0\.0\.1 is a forbidden address/);
    assert.equal(receiver.received.length, received);
  });

  test("polling returns a TPP its own events as signed SETs, acknowledges them, and never shows or acks another TPP's", async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const granted = await grantConsent(assent, beta, customer, { type: 'account_access', accounts: [current] });
    await revokeConsent(assent.db, { consentId: granted.consentId, actor: { kind: 'customer', id: customer.id } });
    const jtis = (await eventsOf(assent, granted.consentId)).map((row) => row.id);
    assert.equal(jtis.length, 3);

    const alphaSees = await poll(alphaApi, { returnImmediately: true, maxEvents: 100 });
    assert.ok(
      jtis.every((jti) => !(jti in alphaSees.sets)),
      "another TPP's events are not shown",
    );
    await poll(alphaApi, { ack: jtis, setErrs: { [jtis[0]!]: { err: 'invalid_key', description: 'x' } }, maxEvents: 0 });

    const first = await poll(betaApi, { returnImmediately: true, maxEvents: 2 });
    assert.deepEqual(Object.keys(first.sets), jtis.slice(0, 2), "oldest first, and another TPP's ack changed nothing");
    assert.equal(first.moreAvailable, true);
    const verified = await verifyWithPublishedJwks(assent, first.sets[jtis[1]!]!, beta.clientId);
    assert.equal(verified.payload.jti, jtis[1]);

    const second = await poll(betaApi, { ack: jtis.slice(0, 2), returnImmediately: true });
    assert.deepEqual(Object.keys(second.sets), [jtis[2]]);
    assert.equal(second.moreAvailable, false);
    const third = await poll(betaApi, {
      setErrs: { [jtis[2]!]: { err: 'authentication_failed', description: 'could not verify' } },
      returnImmediately: true,
    });
    assert.deepEqual(third.sets, {});
    const stored = (await eventsOf(assent, granted.consentId))[2]!;
    assert.deepEqual(stored.recipient_error, { err: 'authentication_failed', description: 'could not verify' });

    // returnImmediately=false waits for the next event and returns it as soon as it exists.
    const next = await grantConsent(assent, beta, customer, { type: 'account_access', accounts: [current] });
    const waiting = poll(betaApi, { maxEvents: 5 });
    await revokeConsent(assent.db, { consentId: next.consentId, actor: { kind: 'customer', id: customer.id } });
    const woken = await waiting;
    assert.ok(Object.keys(woken.sets).length >= 1);
  });

  test("polling refuses malformed requests in the UK OB envelope, and tokens that are not a TPP's", async () => {
    for (const body of [
      { ack: 'x' },
      { maxEvents: -1 },
      { returnImmediately: 'yes' },
      { setErrs: { a: { err: 1 } } },
      { surprise: true },
    ]) {
      const response = await alphaApi.call('POST', `${API}${EVENTS_PATH}`, { body });
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.match(String((response.body as { Errors: { ErrorCode: string }[] }).Errors[0]!.ErrorCode), /^UK\.OBIE\.Field\./);
    }
    const anonymous = await alphaApi.raw('POST', `${API}${EVENTS_PATH}`, { 'content-type': 'application/json' });
    assert.equal(anonymous.status, 401);
    assert.equal((anonymous.body as { Errors: { ErrorCode: string }[] }).Errors[0]!.ErrorCode, 'UK.OBIE.Header.Missing');
  });

  test("callback-urls and event-subscriptions: one per TPP, https only, another TPP's does not exist", async () => {
    const listed = await alphaApi.call('GET', `${API}${CALLBACK_URLS_PATH}`);
    const mine = (listed.body as { Data: { CallbackUrl: { CallbackUrlId: string; Url: string }[] } }).Data.CallbackUrl;
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.Url, receiver.url);
    const id = mine[0]!.CallbackUrlId;

    const again = await alphaApi.call('POST', `${API}${CALLBACK_URLS_PATH}`, { body: { Data: { Url: receiver.url, Version: '3.1' } } });
    assert.equal(again.status, 409);
    const http = await betaApi.call('POST', `${API}${CALLBACK_URLS_PATH}`, {
      body: { Data: { Url: 'http://tpp.example/events', Version: '3.1' } },
    });
    assert.equal(http.status, 400);
    assert.equal((http.body as { Errors: { Path: string }[] }).Errors[0]!.Path, 'Data.Url');

    assert.equal(
      (
        await betaApi.call('PUT', `${API}${CALLBACK_URLS_PATH}/${id}`, {
          body: { Data: { Url: 'https://beta.example/e', Version: '3.1' } },
        })
      ).status,
      404,
    );
    assert.equal((await betaApi.call('DELETE', `${API}${CALLBACK_URLS_PATH}/${id}`)).status, 404);
    assert.equal((await betaApi.call('DELETE', `${API}${EVENT_SUBSCRIPTIONS_PATH}/${id}`)).status, 404);
    assert.deepEqual((await betaApi.call('GET', `${API}${EVENT_SUBSCRIPTIONS_PATH}`)).body, {
      Data: { EventSubscription: [] },
      Links: { Self: `${assent.issuer}${API}${EVENT_SUBSCRIPTIONS_PATH}` },
      Meta: {},
    });

    const viewed = await alphaApi.call('GET', `${API}${EVENT_SUBSCRIPTIONS_PATH}`);
    assert.deepEqual((viewed.body as { Data: { EventSubscription: unknown[] } }).Data.EventSubscription, [
      { EventSubscriptionId: id, CallbackUrl: receiver.url, Version: '3.1' },
    ]);

    const created = await betaApi.call('POST', `${API}${EVENT_SUBSCRIPTIONS_PATH}`, {
      body: { Data: { Version: '3.1', EventTypes: [CONSENT_AUTHORIZATION_REVOKED] } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const subscriptionId = (created.body as { Data: { EventSubscriptionId: string } }).Data.EventSubscriptionId;
    const unknownType = await betaApi.call('PUT', `${API}${EVENT_SUBSCRIPTIONS_PATH}/${subscriptionId}`, {
      body: { Data: { Version: '3.1', EventTypes: ['urn:example:other'] } },
    });
    assert.equal(unknownType.status, 400);
    assert.equal((await betaApi.call('DELETE', `${API}${EVENT_SUBSCRIPTIONS_PATH}/${subscriptionId}`)).status, 204);
    assert.equal((await betaApi.call('DELETE', `${API}${EVENT_SUBSCRIPTIONS_PATH}/${subscriptionId}`)).status, 404);
  });

  test('every status change of every consent type writes its event in the same transaction', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    // Authorised, then Consumed: a payment.
    const paying = await grantConsent(assent, beta, customer, { type: 'domestic_payment', accounts: [current] });
    await consumePaymentConsent(assent.db, { consentId: paying.consentId, actor: { kind: 'resource_server', id: null } });
    assert.deepEqual(
      (await eventsOf(assent, paying.consentId)).map((row) => row.status),
      ['Authorised', 'Consumed'],
    );
    // Rejected: withdrawn by the TPP before the customer saw it.
    const created = await betaApi.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() });
    const pendingId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    assert.equal((await betaApi.call('DELETE', `${ACCOUNT_ACCESS}/${pendingId}`)).status, 204);
    assert.deepEqual(
      (await eventsOf(assent, pendingId)).map((row) => [row.status, row.event_type]),
      [['Rejected', RESOURCE_UPDATE]],
    );
    // Expired: the sweep.
    const reading = await grantConsent(assent, beta, customer, { type: 'account_access', accounts: [current] });
    await sql`update consent set expires_at = now() - interval '1 second' where id = ${reading.consentId}`.execute(assent.db);
    await expireDueConsents(assent.db);
    assert.deepEqual(
      (await eventsOf(assent, reading.consentId)).map((row) => row.status),
      ['Authorised', 'Expired'],
    );
    // A change that fails writes no event: revoking an Expired consent.
    await assert.rejects(revokeConsent(assent.db, { consentId: reading.consentId, actor: { kind: 'customer', id: customer.id } }));
    assert.equal((await eventsOf(assent, reading.consentId)).length, 2);
  });

  test('the sweep deletes events acknowledged over 30 days ago and keeps everything else', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const granted = await grantConsent(assent, beta, customer, { type: 'account_access', accounts: [current] });
    await revokeConsent(assent.db, { consentId: granted.consentId, actor: { kind: 'customer', id: customer.id } });
    const [old, recent, pending] = await eventsOf(assent, granted.consentId);
    await sql`update consent_event set acknowledged_at = now() - interval '31 days' where id = ${old!.id}`.execute(assent.db);
    await sql`update consent_event set acknowledged_at = now() - interval '29 days' where id = ${recent!.id}`.execute(assent.db);
    assert.ok((await sweepSettledEvents(assent.db)) >= 1);
    assert.deepEqual(
      (await eventsOf(assent, granted.consentId)).map((row) => row.id),
      [recent!.id, pending!.id],
    );
  });

  test('two deliverers on one database send each event once and in order (SKIP LOCKED claims)', async () => {
    await receiver.stop();
    const { customer, current } = await customerWithAccounts(assent);
    const consents = [];
    for (let i = 0; i < 3; i += 1)
      consents.push(await grantConsent(assent, alpha, customer, { type: 'account_access', accounts: [current] }));
    for (const granted of consents)
      await revokeConsent(assent.db, { consentId: granted.consentId, actor: { kind: 'customer', id: customer.id } });
    const earlier = receiver.received.length;
    await receiver.resume();
    // Three deliverers race the server's own loop over the same rows until everything has arrived.
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
      settings: { pollIntervalMs: 10, maxAttempts: 20, backoffBaseMs: 10, backoffMaxMs: 50, batchSize: 8, leaseSeconds: 30 },
    };
    const race = { on: true };
    const racing = (async () => {
      while (race.on) {
        await Promise.all([deliverDueEvents(deps), deliverDueEvents(deps), deliverDueEvents(deps)]);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      for (const granted of consents) await receiver.waitFor(3, granted.consentId, 60_000);
    } finally {
      race.on = false;
      await racing;
    }
    const arrived = receiver.received.slice(earlier);
    const jtis = arrived.map((event) => event.claims.jti);
    assert.equal(new Set(jtis).size, jtis.length, 'no event was sent twice');
    for (const granted of consents) {
      const ofConsent = arrived
        .filter((event) => subjectId(event) === granted.consentId)
        .map((event) => Object.keys(event.claims.events)[0]);
      assert.deepEqual(ofConsent.slice(-2), [RESOURCE_UPDATE, CONSENT_AUTHORIZATION_REVOKED]);
    }
  });
});

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { getConsent } from '../../src/consents/consent-service.ts';
import { periodAt } from '../../src/consents/vrp/periods.ts';
import { rotateSigningKeys } from '../../src/oidc/key-rotation.ts';
import { tlsAgent } from '../support/assent.ts';
import { days, hours, minutes } from '../support/clock.ts';
import { ACCOUNT_ACCESS, type ApiResponse, ConsentApiClient, DOMESTIC_VRP } from '../support/consent-api.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer } from '../support/customers.ts';
import { customerWithAccounts, type GrantedConsent, grantConsent } from '../support/granted-consents.ts';
import { TestResourceServer } from '../support/resource-server.ts';
import { pushAuthorizationRequest, redeemCode } from '../support/tpp.ts';
import { useAssent, useResourceServer, useTpp } from '../support/fixture.ts';

/**
 * A consent works for its whole life: consents live for months, the customer's browser
 * session for minutes (SESSION_TTL 300 s). Each test moves the clock (the engine's and the database's
 * together, test/support/clock.ts) past the session and through the consent's life, running the
 * periodic sweeps on the way, as the server would. The clock only moves forward, so each test starts
 * from wherever the one before left it.
 */

type Refreshed = Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;
interface ConsentData {
  Status: string;
  StatusReason?: { StatusReasonDescription: string }[];
}
interface VrpAnswer {
  Data: { Periods: { Paid: string; Remaining: string; PeriodStartDateTime: string; PeriodEndDateTime: string }[] };
  Errors?: { ErrorCode: string; Path?: string; Message: string }[];
}

const isInvalidGrant = (error: oidc.ResponseBodyError) => error.error === 'invalid_grant';
const CALENDAR_MONTH = { PeriodType: 'Month', PeriodAlignment: 'Calendar' } as const;
const times = (count: number, value: string) => Array.from({ length: count }, () => value);

/** Waits (real time) for what a background job does, such as the signing-key watch. */
async function eventually(check: () => Promise<boolean>, what: string) {
  for (let waited = 0; !(await check()); waited += 100) {
    if (waited > 10_000) assert.fail(`still not so after 10 s: ${what}`);
    await sleep(100);
  }
}

describe('the life of consents, with the clock moved', () => {
  // The signing-key watch re-reads every second (of real time), so a rotation shows within a test.
  const assent = useAssent({ KEY_REFRESH_INTERVAL: '1' }, { movableClock: true });
  // Made before the clock moves: TLS checks client certificates against the real clock.
  const tpp = useTpp(assent);
  const rs = useResourceServer(assent);

  const databaseNow = async () =>
    (await sql<{ now: Date; clock: Date }>`select now() as now, clock_timestamp() as clock`.execute(assent.db)).rows[0]!;
  const refresh = (granted: Pick<GrantedConsent, 'tokens' | 'dpop'>) =>
    oidc.refreshTokenGrant(tpp.config, granted.tokens.refresh_token!, undefined, { DPoP: granted.dpop });
  const grantRow = (grantId: string) =>
    assent.db.selectFrom('oidc_model').select('payload').where('model', '=', 'Grant').where('id', '=', grantId).executeTakeFirst();
  const grantOf = async (consentId: string) => (await getConsent(assent.db, consentId))!.grantId!;
  const sessionsOf = async (customerId: string) =>
    (
      await assent.db
        .selectFrom('oidc_model')
        .select('id')
        .where('model', '=', 'Session')
        .where(sql<boolean>`payload->>'accountId' = ${customerId}`)
        .execute()
    ).length;

  /** A refresh that must work, `when`: its new access token introspects active, bound to the consent. */
  async function refreshesWithConsent(
    granted: GrantedConsent,
    when: string,
  ): Promise<{ refreshed: Refreshed; introspected: oidc.IntrospectionResponse }> {
    const refreshed = await refresh(granted).catch((error: oidc.ResponseBodyError) =>
      assert.fail(`${when}: the refresh was refused: ${error.error} (${error.error_description})`),
    );
    const introspected = await rs.introspect(refreshed.access_token);
    assert.equal(introspected.active, true, `${when}: the new access token is active`);
    assert.equal(introspected.consent_id, granted.consentId, when);
    assert.equal(introspected.consent_status, 'Authorised', when);
    return { refreshed, introspected };
  }

  /** The consent as its TPP reads it on the consent API (a fresh API token: the clock may have moved past the last). */
  async function consentData(path: string, consentId: string): Promise<ConsentData> {
    const read = await (await ConsentApiClient.create(assent, tpp)).call('GET', `${path}/${consentId}`);
    assert.equal(read.status, 200, JSON.stringify(read.body));
    return (read.body as { Data: ConsentData }).Data;
  }

  /** A VRP payment through the bank API, by a resource server whose bank token is fresh at the current time. */
  async function vrpPayments(consentId: string) {
    const bank = await TestResourceServer.create(assent);
    return (amount: string): Promise<ApiResponse & { body: VrpAnswer }> =>
      bank.call('POST', `/bank/vrp-consents/${consentId}/payments`, {
        body: { Data: { InstructedAmount: { Amount: amount, Currency: 'GBP' } } },
        headers: { 'x-idempotency-key': crypto.randomUUID() },
      }) as Promise<ApiResponse & { body: VrpAnswer }>;
  }

  const jwks = async () =>
    (await (await fetch(`${assent.issuer}/jwks`, { dispatcher: tlsAgent(assent.ca.certPem) })).json()) as JSONWebKeySet;

  test("the clock moves the engine's Date and the database's now() together, column defaults included", async () => {
    const real = Date.now();
    const unmoved = await databaseNow();
    assert.ok(Math.abs(unmoved.now.getTime() - real) < 5_000, 'unmoved, the database and the process agree');

    await assent.clock.advance(days(91));
    const moved = Date.now() - real;
    assert.ok(moved >= days(91) && moved < days(91) + 5_000, `Date.now() moved ${moved} ms`);
    assert.ok(Math.abs(new Date().getTime() - (real + days(91))) < 5_000, 'new Date() moved with it');
    assert.equal(new Date(0).getTime(), 0, 'a date with arguments is what it says');
    assert.ok(new Date() instanceof Date);
    const database = await databaseNow();
    for (const instant of [database.now, database.clock])
      assert.ok(Math.abs(instant.getTime() - Date.now()) < 5_000, `the database reads ${instant.toISOString()}`);

    const customer = await createTestCustomer(assent.db);
    const row = await assent.db.selectFrom('customer').select('created_at').where('id', '=', customer.id).executeTakeFirstOrThrow();
    assert.ok(Math.abs(row.created_at.getTime() - Date.now()) < 5_000, 'a `default now()` of the migrations is the moved clock');
  });

  test('a 90-day account-access consent refreshes past the browser session, through sweeps and a key rotation, until its 90th day and not after', async () => {
    const { customer, current, savings } = await customerWithAccounts(assent);
    const granted = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current, savings] });
    const start = Date.now();
    const consent = (await getConsent(assent.db, granted.consentId))!;
    assert.ok(Math.abs(consent.expiresAt!.getTime() - (start + days(90))) < minutes(1), 'ExpirationDateTime is 90 days on');
    const grantId = consent.grantId!;
    const at = (offset: number) => assent.clock.advanceTo(new Date(start + offset));

    /** The periodic sweeps leave the consent, its grant and its refresh token alone. */
    async function sweepsSpare(when: string) {
      await assent.sweepNow();
      assert.equal(
        (await getConsent(assent.db, granted.consentId))?.status,
        'Authorised',
        `${when}: the consent is still Authorised after the sweeps`,
      );
      assert.ok(await grantRow(grantId), `${when}: the consent's grant is still there after the sweeps`);
    }

    // Past the browser session: the sweeps end the session, and nothing of the consent.
    await at(minutes(6));
    await sweepsSpare('+6 minutes');
    assert.equal(await sessionsOf(customer.id), 0, 'the sweep deleted the expired browser session');
    const sixMinutes = await refreshesWithConsent(granted, '+6 minutes');
    assert.deepEqual(sixMinutes.introspected.permissions, [
      'ReadAccountsDetail',
      'ReadBalances',
      'ReadTransactionsDetail',
      'ReadTransactionsCredits',
      'ReadTransactionsDebits',
    ]);
    assert.deepEqual((sixMinutes.introspected.account_ids as string[]).toSorted(), [current.id, savings.id].toSorted());
    assert.equal(sixMinutes.introspected.expiration, Math.floor(consent.expiresAt!.getTime() / 1000));

    // A day on, the operator rotates the signing keys: new keys sign an hour later, the old retire an hour after that.
    await at(days(1));
    await sweepsSpare('+1 day');
    await refreshesWithConsent(granted, '+1 day');
    const retiring = (await jwks()).keys.map((key) => key.kid);
    const rotation = await rotateSigningKeys(assent.db, { activationDelaySeconds: 3600, retireAfterSeconds: 3600 });
    const rotatedPs256 = rotation.created.find((key) => key.alg === 'PS256')!.kid;

    await at(days(89));
    await sweepsSpare('+89 days');
    await eventually(async () => !(await jwks()).keys.some((key) => retiring.includes(key.kid)), 'the superseded keys leave the JWKS');
    const lastDays = await refreshesWithConsent(granted, '+89 days');
    assert.equal(
      decodeProtectedHeader(lastDays.refreshed.id_token!).kid,
      rotatedPs256,
      'the rotated key signs; the refresh token did not depend on the old one',
    );

    // Past ExpirationDateTime: nothing of the consent works any more, before any sweep has run.
    await at(days(91));
    await assert.rejects(refresh(granted), isInvalidGrant);
    assert.equal((await rs.introspect(granted.tokens.refresh_token!)).active, false, 'the refresh token introspects inactive');
    assert.equal((await rs.introspect(lastDays.refreshed.access_token)).active, false);
    assert.equal((await consentData(ACCOUNT_ACCESS, granted.consentId)).Status, 'Expired', 'the TPP reads it Expired at once');

    const swept = await assent.sweepNow();
    assert.ok(swept.expiredConsents >= 1, 'the expiry sweep ended it');
    assert.equal((await getConsent(assent.db, granted.consentId))?.status, 'Expired', 'stored Expired');
    assert.equal(await grantRow(grantId), undefined, 'its grant is gone');
    const history = (await auditHistory(assent.db, 'consent', granted.consentId)).map((event) => event.event);
    assert.deepEqual(history, ['consent.created', 'consent.authorised', 'consent.expired']);
  });

  test("a second consent approved in the same signed-in browser, then signing out, leave the first consent's tokens working", async () => {
    const { customer, current, savings } = await customerWithAccounts(assent);
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const first = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current], browser });
    const second = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [savings], browser });
    assert.notEqual(await grantOf(first.consentId), await grantOf(second.consentId), 'each consent has a grant of its own');
    assert.equal(
      (await rs.introspect(first.tokens.access_token)).active,
      true,
      "the second approval left the first consent's access token active",
    );
    await refreshesWithConsent(first, 'after the second consent');

    assert.equal(await sessionsOf(customer.id), 1);
    assert.equal((await browser.signOut()).status, 200);
    assert.equal(await sessionsOf(customer.id), 0, 'signed out: the session is gone');
    for (const granted of [first, second]) {
      assert.equal((await rs.introspect(granted.tokens.access_token)).active, true, 'signing out of the bank does not end a consent');
      await refreshesWithConsent(granted, 'after signing out');
    }

    await assent.clock.advance(minutes(10));
    await assent.sweepNow();
    for (const granted of [first, second]) {
      await refreshesWithConsent(granted, '10 minutes after signing out, and a sweep');
      assert.equal((await consentData(ACCOUNT_ACCESS, granted.consentId)).Status, 'Authorised');
    }
  });

  test("a request that names no consent, after a payment consent in the same browser, does not widen the payment consent's grant", async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const payment = await grantConsent(assent, tpp, customer, { type: 'domestic_payment', accounts: [current], browser });
    const paymentGrant = await grantOf(payment.consentId);
    const asGranted = (await grantRow(paymentGrant))!.payload;

    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts' }, { DPoP: dpop });
    const page = await browser.signIn(request.url, customer);
    const callback = await browser.submit(page, 'confirm');
    const plain = await redeemCode(tpp, callback.url, request, { dpop });
    assert.notEqual(plain.grant_id, paymentGrant, 'the request got a grant of its own');
    assert.deepEqual((await grantRow(paymentGrant))?.payload, asGranted, "the payment consent's grant is as the customer approved it");
    const plainIntrospected = await rs.introspect(plain.access_token);
    assert.equal(plainIntrospected.active, true);
    assert.equal(plainIntrospected.consent_id, undefined, 'the plain token carries no consent');
    assert.equal(plainIntrospected.authorization_details, undefined, "nor the payment consent's authorization details");

    const { refreshed, introspected } = await refreshesWithConsent(payment, 'after the request without a consent');
    assert.deepEqual(refreshed.scope?.split(' ').toSorted(), ['openid', 'payments'], 'the payment token carries no other scope');
    assert.deepEqual(introspected.authorization_details, [{ type: 'payment_initiation', consent_id: payment.consentId }]);
  });

  test("a monthly VRP limit starts again exactly at the London month boundary, and the mandate's tokens refresh months later", async () => {
    const { customer, current } = await customerWithAccounts(assent);
    // The default mandate: up to £250 a payment, £1,000 a calendar month, for a year.
    const mandate = await grantConsent(assent, tpp, customer, { type: 'domestic_vrp', accounts: [current] });
    let boundary = periodAt(CALENDAR_MONTH, new Date(), new Date()).end;
    if (boundary.getTime() - Date.now() < hours(2)) boundary = periodAt(CALENDAR_MONTH, boundary, boundary).end;
    const ledger = () =>
      assent.db
        .selectFrom('vrp_payment')
        .select(['outcome', 'created_at'])
        .where('consent_id', '=', mandate.consentId)
        .orderBy('created_at')
        .execute();

    // The last hour of the month: the whole month's limit is paid, and nothing more is.
    await assent.clock.advanceTo(new Date(boundary.getTime() - hours(1)));
    let pay = await vrpPayments(mandate.consentId);
    for (let i = 0; i < 4; i++) assert.equal((await pay('250.00')).status, 201);
    const full = await pay('0.01');
    assert.equal(full.status, 400);
    assert.equal(full.body.Errors?.[0]?.Path, 'ControlParameters.PeriodicLimits[0]');
    assert.match(full.body.Errors![0]!.Message, new RegExp(`left until ${boundary.toISOString()}`));

    // Two seconds before the boundary the month is still spent; at the boundary the next one starts empty.
    await assent.clock.advanceTo(new Date(boundary.getTime() - 2_000));
    pay = await vrpPayments(mandate.consentId);
    assert.equal((await pay('1.00')).status, 400, 'still the old month');
    await assent.clock.advanceTo(boundary);
    const first = await pay('250.00');
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.deepEqual(first.body.Data.Periods[0], {
      ...first.body.Data.Periods[0],
      Paid: '250.00',
      Remaining: '750.00',
      PeriodStartDateTime: boundary.toISOString(),
      PeriodEndDateTime: periodAt(CALENDAR_MONTH, boundary, boundary).end.toISOString(),
    });
    for (let i = 0; i < 3; i++) assert.equal((await pay('250.00')).status, 201);
    assert.equal((await pay('0.01')).status, 400, "the new month's limit holds too");
    const rows = await ledger();
    assert.deepEqual(
      rows.map((row) => `${row.outcome} in the ${row.created_at < boundary ? 'old' : 'new'} month`),
      [
        ...times(4, 'accepted in the old month'),
        ...times(2, 'refused in the old month'),
        ...times(4, 'accepted in the new month'),
        'refused in the new month',
      ],
    );

    await assent.sweepNow();
    await refreshesWithConsent(mandate, 'in the next month');
    // Months on, still inside the mandate's year.
    await assent.clock.advance(days(120));
    await assent.sweepNow();
    assert.equal((await consentData(DOMESTIC_VRP, mandate.consentId)).Status, 'Authorised');
    const { introspected } = await refreshesWithConsent(mandate, 'four months later');
    assert.equal(introspected.consent_type, 'domestic_vrp');
    assert.equal((await (await vrpPayments(mandate.consentId))('250.00')).status, 201, 'and the mandate still pays');
  });

  test('RFC 7009: revoking a consent-bound refresh token ends the consent as Revoked, for the TPP, the bank and the audit trail', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const mandate = await grantConsent(assent, tpp, customer, { type: 'domestic_vrp', accounts: [current] });
    const pay = await vrpPayments(mandate.consentId);
    assert.equal((await pay('10.00')).status, 201, 'the mandate pays before the revocation');

    await oidc.tokenRevocation(tpp.config, mandate.tokens.refresh_token!);
    const data = await consentData(DOMESTIC_VRP, mandate.consentId);
    assert.equal(data.Status, 'Revoked');
    assert.ok(data.StatusReason?.[0]?.StatusReasonDescription, 'the TPP reads why it ended');
    const refused = await pay('10.00');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.Errors?.[0]?.ErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus');
    assert.equal(refused.body.Errors?.[0]?.Message, 'the consent is Revoked');
    assert.equal((await rs.introspect(mandate.tokens.access_token)).active, false);
    await assert.rejects(refresh(mandate), isInvalidGrant);
    const events = (await auditHistory(assent.db, 'consent', mandate.consentId)).map((event) => event.event);
    assert.ok(events.includes('consent.revoked'), `audited: ${events.join(', ')}`);
  });
});

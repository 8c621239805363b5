import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { addDays, bankCalendar } from '../../src/berlin-group/bg-bank-time.ts';
import { type BankAccount, openAccount } from '../../src/customers/account-directory.ts';
import { issueCertificate } from '../../src/http/dev-pki.ts';
import { tlsAgent } from '../support/assent.ts';
import { bgCaller, type EidasTppClient, eidasTppClient, pushBgAuthorization } from '../support/berlin-group.ts';
import { DeviceApp } from '../support/ciba.ts';
import { minutes } from '../support/clock.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer, oneTimeCode, type TestCustomer } from '../support/customers.ts';
import { useAssent, useResourceServer } from '../support/fixture.ts';
import { TestResourceServer } from '../support/resource-server.ts';

/**
 * A Berlin Group consent over its life, with the clock moved (the engine's and the database's together,
 * test/support/clock.ts): its validUntil is a bank date, frequencyPerDay counts per bank day, a DECOUPLED
 * authorisation lapses after CIBA_REQUEST_LIFETIME. The bank is in Tokyo (UTC+9 all year), so the bank's
 * midnight is 15:00 UTC and never UTC's: a day counted in UTC, or a validUntil ended at UTC's midnight,
 * fails here. The clock only moves forward; each test starts where the one before left it.
 */

const ZONE = 'Asia/Tokyo';
const calendar = bankCalendar(ZONE);
const REDIRECT = 'https://kontoblick.example/callback';
const LIFETIME_SECONDS = 60;

interface BgAnswer {
  consentId: string;
  consentStatus: string;
  validUntil: string;
  scaStatus: string;
  tppMessages: { code: string }[];
  _links: Record<string, { href: string }>;
}

/** A German IBAN with valid check digits (ISO 13616: 98 - BBAN + "DE00" mod 97). */
function germanIban(): string {
  const bban = Array.from({ length: 18 }, () => randomInt(10)).join('');
  const check = 98 - Number(BigInt(`${bban}131400`) % 97n);
  return `DE${String(check).padStart(2, '0')}${bban}`;
}

const isInvalidGrant = (error: oidc.ResponseBodyError) => error.error === 'invalid_grant';

describe('a Berlin Group consent over its life, the clock moved', () => {
  const assent = useAssent({ BANK_TIME_ZONE: ZONE, CIBA_REQUEST_LIFETIME: String(LIFETIME_SECONDS) }, { movableClock: true });
  const bank = useResourceServer(assent, 'Accounts API');
  let aisp: EidasTppClient;
  let customer: TestCustomer;
  let girokonto: BankAccount;

  const call = bgCaller<BgAnswer>(() => assent.issuer);
  const bg = (method: string, path: string, body?: unknown, headers: Record<string, string> = { 'TPP-Redirect-URI': REDIRECT }) =>
    call(aisp.agent, method, path, { headers, ...(body !== undefined && { body }) });
  const consentStatusOf = async (consentId: string) => (await bg('GET', `/v1/consents/${consentId}/status`)).body!.consentStatus;
  // The bank API's own token is short-lived: a resource server that holds one issued at the clock's present.
  let accounts: { at: number; server: TestResourceServer } | undefined;
  const access = async (consentId: string) => {
    if (accounts?.at !== assent.clock.offsetMs) accounts = { at: assent.clock.offsetMs, server: await TestResourceServer.create(assent) };
    return accounts.server.call('POST', `/bank/consents/${consentId}/accesses`, {
      body: { resource: 'balances', accountId: girokonto.id },
    });
  };

  async function createConsent(overrides: Record<string, unknown>, headers?: Record<string, string>): Promise<BgAnswer> {
    const created = await bg(
      'POST',
      '/v1/consents',
      {
        access: { accounts: [{ iban: girokonto.identification }], balances: [{ iban: girokonto.identification }] },
        recurringIndicator: true,
        validUntil: '9999-12-31',
        frequencyPerDay: 4,
        combinedServiceIndicator: false,
        ...overrides,
      },
      headers,
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body!;
  }

  /** The OAuth2 SCA approach end to end: PAR by scope AIS:<id>, the customer grants the named account, the code redeemed. */
  async function authorise(consentId: string) {
    const pushed = await pushBgAuthorization(aisp, REDIRECT, { scope: `AIS:${consentId}` });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const page = await browser.signIn(pushed.url, customer);
    const callback = await browser.submit(page, 'confirm', { [`account:${girokonto.id}`]: 'on' });
    assert.equal(`${callback.url.origin}${callback.url.pathname}`, REDIRECT, callback.body.slice(0, 300));
    const tokens = await oidc.authorizationCodeGrant(aisp.config, callback.url, {
      pkceCodeVerifier: pushed.codeVerifier,
      expectedState: pushed.state,
    });
    assert.equal(await consentStatusOf(consentId), 'valid');
    return tokens;
  }

  before(async () => {
    // Made before the clock moves: TLS checks the QWAC against the real clock.
    const organizationId = 'PSDDE-BAFIN-LIFE01';
    const certificate = await issueCertificate(assent.ca, {
      subject: `CN=${organizationId},organizationIdentifier=${organizationId},O=Kontoblick GmbH,C=DE`,
      usage: 'client',
      psd2: { roles: ['PSP_AI'], ncaName: 'BaFin', ncaId: 'DE-BAFIN' },
    });
    aisp = await eidasTppClient(assent, organizationId, certificate);
    customer = await createTestCustomer(assent.db);
    girokonto = await openAccount(assent.db, {
      customerId: customer.id,
      schemeName: 'UK.OBIE.IBAN',
      identification: germanIban(),
      name: 'Girokonto',
      currency: 'EUR',
      accountType: 'Personal',
      accountSubtype: 'CurrentAccount',
    });
  });

  test('its tokens and refresh token live through its validUntil bank date and die at the bank’s midnight after it: expired', async () => {
    const validUntil = addDays(calendar.dateOf(new Date()), 2);
    const { consentId } = await createConsent({ validUntil });
    assert.equal((await bg('GET', `/v1/consents/${consentId}`)).body!.validUntil, validUntil);
    const tokens = await authorise(consentId);
    const end = calendar.endOf(validUntil);
    assert.equal(end.toISOString(), `${validUntil}T15:00:00.000Z`, "Tokyo's midnight after validUntil, not UTC's");

    // The last minute of validUntil: the refresh token still refreshes, its access token is the consent's.
    await assent.clock.advanceTo(new Date(end.getTime() - minutes(1)));
    assert.equal(calendar.dateOf(new Date()), validUntil);
    const lastDay = await oidc.refreshTokenGrant(aisp.config, tokens.refresh_token!);
    const seen = await bank.introspect(lastDay.access_token);
    assert.equal(seen.active, true);
    assert.equal(seen.consent_id, consentId);
    assert.equal(await consentStatusOf(consentId), 'valid');
    assert.equal((await access(consentId)).status, 201);

    // Past the bank's midnight: every token dead, though the access token's own lifetime has not run out.
    await assent.clock.advanceTo(new Date(end.getTime() + minutes(1)));
    assert.equal((await bank.introspect(lastDay.access_token)).active, false, 'the access token ends with the consent');
    assert.equal((await bank.introspect(tokens.access_token)).active, false);
    await assert.rejects(oidc.refreshTokenGrant(aisp.config, lastDay.refresh_token ?? tokens.refresh_token!), isInvalidGrant);
    assert.equal(await consentStatusOf(consentId), 'expired');
    const read = await bg('GET', `/v1/consents/${consentId}`);
    assert.equal(read.body!.consentStatus, 'expired');
    assert.equal(read.body!.validUntil, validUntil);
    assert.equal((await access(consentId)).status, 400, 'the bank API refuses an access under an expired consent');
  });

  test("frequencyPerDay: the day's accesses used up, refused past UTC's midnight, allowed again after the bank's", async () => {
    const { consentId } = await createConsent({ frequencyPerDay: 2 });
    // Half an hour before UTC's midnight: 08:30 in Tokyo, well inside one bank day.
    const now = new Date();
    const nextUtcMidnight = (days: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days));
    const utcMidnight = nextUtcMidnight(1).getTime() - minutes(30) > now.getTime() ? nextUtcMidnight(1) : nextUtcMidnight(2);
    await assent.clock.advanceTo(new Date(utcMidnight.getTime() - minutes(30)));
    const tokens = await authorise(consentId);
    const bankDay = calendar.dateOf(new Date());
    assert.equal((await bank.introspect(tokens.access_token)).active, true);

    const allowed = [await access(consentId), await access(consentId)];
    assert.deepEqual(
      allowed.map((answer) => [answer.status, (answer.body as { Data: { Remaining: number } }).Data.Remaining]),
      [
        [201, 1],
        [201, 0],
      ],
    );
    const refused = await access(consentId);
    assert.equal(refused.status, 429, JSON.stringify(refused.body));

    // UTC's midnight passes; the bank's day has not ended.
    await assent.clock.advanceTo(new Date(utcMidnight.getTime() + minutes(30)));
    assert.equal(calendar.dateOf(new Date()), bankDay);
    assert.equal((await access(consentId)).status, 429, "UTC's new day is not the bank's");

    // The bank's midnight: a new bank day, two accesses again, then refused again.
    await assent.clock.advanceTo(new Date(calendar.endOf(bankDay).getTime() + minutes(1)));
    assert.equal(calendar.dateOf(new Date()), addDays(bankDay, 1));
    const nextDay = await access(consentId);
    assert.equal(nextDay.status, 201, JSON.stringify(nextDay.body));
    assert.equal((nextDay.body as { Data: { AccessesToday: number } }).Data.AccessesToday, 1);
    assert.equal((await access(consentId)).status, 201);
    assert.equal((await access(consentId)).status, 429);
    const recorded = (await auditHistory(assent.db, 'consent', consentId)).filter((event) => event.event === 'access.recorded');
    assert.deepEqual(
      recorded.map((event) => (event.details as { bankDate: string }).bankDate),
      [bankDay, bankDay, addDays(bankDay, 1), addDays(bankDay, 1)],
      'refusals write nothing; each access counts on its bank date',
    );
  });

  test('a DECOUPLED authorisation lapses after CIBA_REQUEST_LIFETIME: failed, the consent not valid, a late approval changes nothing', async () => {
    const app = await DeviceApp.signIn(assent, customer);
    const created = await createConsent({}, { 'TPP-Decoupled-Preferred': 'true', 'PSU-ID': customer.username });
    const { consentId, _links: links } = created;
    const authorisationId = links.scaStatus!.href.split('/').at(-1)!;
    const scaStatus = async () => (await bg('GET', `/v1/consents/${consentId}/authorisations/${authorisationId}`)).body!.scaStatus;
    assert.equal(await scaStatus(), 'started');
    const request = (await app.pending()).find((candidate) => candidate.consent.id === consentId);
    assert.ok(request, 'the consent waits on the customer’s device');

    await assent.clock.advance((LIFETIME_SECONDS + 1) * 1000);
    assert.equal(await scaStatus(), 'failed');
    assert.equal(await consentStatusOf(consentId), 'received');
    assert.equal(
      (await app.pending()).some((candidate) => candidate.consent.id === consentId),
      false,
      'no longer offered on the device',
    );
    const history = await auditHistory(assent.db, 'consent', consentId);

    const late = await app.approve(request.id, { code: await oneTimeCode(customer), account_ids: [girokonto.id] });
    assert.deepEqual([late.status, late.body.error], [409, 'already_decided'], 'a lapsed request reads as decided');
    assert.equal(await scaStatus(), 'failed');
    assert.equal(await consentStatusOf(consentId), 'received');
    assert.deepEqual(await auditHistory(assent.db, 'consent', consentId), history, 'nothing written');
    assert.equal((await access(consentId)).status, 400, 'no access under it');
    const stored = await assent.db
      .selectFrom('consent')
      .select(['status', 'customer_id', 'selected_account_ids'])
      .where('id', '=', consentId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(stored, { status: 'AwaitingAuthorisation', customer_id: null, selected_account_ids: [] });

    // The TPP may start again, and that one is approved.
    const restarted = await bg('POST', `/v1/consents/${consentId}/authorisations`, undefined, {
      'TPP-Decoupled-Preferred': 'true',
      'PSU-ID': customer.username,
    });
    assert.equal(restarted.status, 201, JSON.stringify(restarted.body));
    const again = (await app.pending()).find((candidate) => candidate.consent.id === consentId)!;
    assert.notEqual(again.id, request.id);
    await assent.clock.advance(31_000); // the next one-time code's step
    const approved = await app.approve(again.id, { code: await oneTimeCode(customer), account_ids: [girokonto.id] });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(await consentStatusOf(consentId), 'valid');
    assert.equal(await scaStatus(), 'failed', 'the lapsed one stays failed');
  });
});

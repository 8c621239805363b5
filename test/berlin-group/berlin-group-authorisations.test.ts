import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Agent } from 'undici';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import type { DecoupledRequestNotice } from '../../src/ciba/authentication-device.ts';
import { openAccount } from '../../src/customers/account-directory.ts';
import type { Psd2Role } from '../../src/protocol/routes.ts';
import { type TestAssent, startTestAssent, tlsAgent } from '../support/assent.ts';
import { DeviceApp } from '../support/ciba.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { pageText, signInToDashboard } from '../support/dashboard.ts';
import { createTestCustomer, oneTimeCode, type TestCustomer } from '../support/customers.ts';
import { TestResourceServer } from '../support/resource-server.ts';
import { assertDescribed, bgCaller, qwacAgent } from '../support/berlin-group.ts';

/**
 * The Berlin Group authorisation sub-resources of an AIS consent on a real Assent (real Postgres, real TLS,
 * TPPs known by their QWAC): started with the consent (implicit) or by the TPP (explicit), listed, their
 * scaStatus; another TPP's consent and a foreign authorisation id refused; no authorisation once the consent
 * ended. The DECOUPLED approach end to end: the customer PSU-ID names approves or denies on the bank app's
 * device API; no token is issued, the consent becomes valid (the bank API counts its accesses) or rejected.
 */

const REDIRECT = 'https://tpp.example/cb';
const AISP = 'PSDDE-BAFIN-224466';

interface BgAnswer {
  tppMessages: { code: string; path?: string }[];
  consentId: string;
  consentStatus: string;
  scaStatus: string;
  authorisationId: string;
  authorisationIds: string[];
  _links: Record<string, { href: string }>;
}

const body = {
  access: { accounts: [], balances: [] },
  recurringIndicator: true,
  validUntil: '9999-12-31',
  frequencyPerDay: 4,
  combinedServiceIndicator: false,
};

/** A German IBAN with a random account and valid check digits (ISO 13616: 98 - BBAN + "DE00" mod 97). */
function iban(): string {
  const bban = `${String(randomInt(10 ** 7, 10 ** 8))}${String(randomInt(10 ** 9, 10 ** 10))}`;
  const check = 98 - Number(BigInt(`${bban}131400`) % 97n);
  return `DE${String(check).padStart(2, '0')}${bban}`;
}

/** An answer's `_links`. */
function linksOf(answer: BgAnswer | undefined): BgAnswer['_links'] {
  const { _links: links } = answer!;
  return links;
}

/** The authorisation an answer's `_links.scaStatus` points at. */
const scaStatusIdOf = (answer: BgAnswer | undefined) => linksOf(answer).scaStatus!.href.split('/').at(-1)!;

const consentCount = async (db: TestAssent['db']) =>
  Number(
    (
      await db
        .selectFrom('consent')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('Berlin Group authorisation sub-resources and the decoupled approach', () => {
  let assent: TestAssent;
  let base: string;
  const agents: Record<'aisp' | 'other' | 'pispOnly', Agent> = {} as never;
  const notices: DecoupledRequestNotice[] = [];
  let customer: TestCustomer;
  let app: DeviceApp;
  let girokonto: { id: string; iban: string };
  let tagesgeld: { id: string; iban: string };

  const qwac = (organizationId: string, roles: Psd2Role[]) => qwacAgent(assent, organizationId, roles, 'Kontoblick GmbH');

  const call = bgCaller<BgAnswer>(() => base);

  const create = (headers: Record<string, string> = { 'TPP-Redirect-URI': REDIRECT }, overrides: Record<string, unknown> = {}) =>
    call(agents.aisp, 'POST', '/v1/consents', { headers, body: { ...body, ...overrides } });

  /** A consent the TPP wants authorised on the device of `psuId`. */
  const createDecoupled = (psuId: string, overrides: Record<string, unknown> = {}) =>
    create({ 'TPP-Decoupled-Preferred': 'true', 'PSU-ID': psuId }, overrides);

  const scaStatusOf = async (consentId: string, authorisationId: string, agent = agents.aisp) =>
    call(agent, 'GET', `/v1/consents/${consentId}/authorisations/${authorisationId}`);

  const consentStatusOf = async (consentId: string) =>
    (await call(agents.aisp, 'GET', `/v1/consents/${consentId}/status`)).body!.consentStatus;

  const authorisationRows = async () =>
    Number(
      (
        await assent.db
          .selectFrom('consent_authorisation')
          .select((eb) => eb.fn.countAll<string>().as('count'))
          .executeTakeFirstOrThrow()
      ).count,
    );

  const described = (method: string, template: string, answer: { status: number; body?: BgAnswer }) =>
    assertDescribed(assent.provider.issuer, method, template, answer);

  /** The pending request of this consent on the customer's device. */
  const pendingFor = async (consentId: string) => {
    const request = (await app.pending()).find((candidate) => candidate.consent.id === consentId);
    assert.ok(request, 'the consent waits on the customer’s device');
    return request;
  };

  before(async () => {
    assent = await startTestAssent(
      {},
      {
        triggerAuthenticationDevice: async (notice) => {
          notices.push(notice);
        },
      },
    );
    base = `https://localhost:${assent.port}`;
    agents.aisp = await qwac(AISP, ['PSP_AI']);
    agents.other = await qwac('PSDDE-BAFIN-113355', ['PSP_AI']);
    agents.pispOnly = await qwac('PSDDE-BAFIN-998877', ['PSP_PI']);
    customer = await createTestCustomer(assent.db);
    const account = async (name: string, accountSubtype: 'CurrentAccount' | 'Savings') => {
      const identification = iban();
      const opened = await openAccount(assent.db, {
        customerId: customer.id,
        schemeName: 'UK.OBIE.IBAN',
        identification,
        name,
        currency: 'EUR',
        accountType: 'Personal',
        accountSubtype,
      });
      return { id: opened.id, iban: identification };
    };
    girokonto = await account('Girokonto', 'CurrentAccount');
    tagesgeld = await account('Tagesgeld', 'Savings');
    app = await DeviceApp.signIn(assent, customer);
  });
  after(async () => {
    await Promise.all(Object.values(agents).map((agent) => agent.close()));
    await assent?.stop();
  });

  test('implicit start: an authorisation is created with the consent (REDIRECT), listed, received; audited', async () => {
    const created = await create();
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { consentId, _links: links } = created.body!;
    const authorisationId = links.scaStatus!.href.split('/').at(-1)!;
    assert.equal(links.scaStatus!.href, `/v1/consents/${consentId}/authorisations/${authorisationId}`);
    assert.ok(links.scaOAuth, 'REDIRECT: where the OAuth flow starts');
    assert.equal(links.startAuthorisation, undefined);

    const listed = await call(agents.aisp, 'GET', `/v1/consents/${consentId}/authorisations`);
    assert.deepEqual([listed.status, listed.body], [200, { authorisationIds: [authorisationId] }]);
    described('get', '/v1/consents/{consentId}/authorisations', listed);
    const status = await scaStatusOf(consentId, authorisationId);
    assert.deepEqual([status.status, status.body], [200, { scaStatus: 'received' }]);
    described('get', '/v1/consents/{consentId}/authorisations/{authorisationId}', status);

    const events = await auditHistory(assent.db, 'consent', consentId);
    const started = events.find((event) => event.event === 'consent.authorisation_started');
    assert.deepEqual(started?.details, { authorisationId, approach: 'redirect' });
    assert.deepEqual(started?.actor, { kind: 'tpp', id: AISP });
  });

  test('explicit start: no authorisation until the TPP starts one; each start is a new one, the earlier failed (superseded)', async () => {
    const created = await create({ 'TPP-Redirect-URI': REDIRECT, 'TPP-Explicit-Authorisation-Preferred': 'true' });
    assert.equal(created.status, 201);
    const { consentId, _links: links } = created.body!;
    assert.deepEqual(links.startAuthorisation, { href: `/v1/consents/${consentId}/authorisations` });
    assert.equal(links.scaStatus, undefined);
    assert.deepEqual((await call(agents.aisp, 'GET', `/v1/consents/${consentId}/authorisations`)).body, { authorisationIds: [] });

    const first = await call(agents.aisp, 'POST', `/v1/consents/${consentId}/authorisations`);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    described('post', '/v1/consents/{consentId}/authorisations', first);
    assert.equal(first.headers.get('aspsp-sca-approach'), 'REDIRECT');
    const firstId = first.body!.authorisationId;
    assert.deepEqual(first.body, {
      scaStatus: 'received',
      authorisationId: firstId,
      _links: {
        scaOAuth: { href: `${assent.provider.issuer}/.well-known/oauth-authorization-server` },
        scaStatus: { href: `/v1/consents/${consentId}/authorisations/${firstId}` },
      },
    });

    const second = await call(agents.aisp, 'POST', `/v1/consents/${consentId}/authorisations`);
    assert.equal(second.status, 201);
    const secondId = second.body!.authorisationId;
    assert.notEqual(secondId, firstId);
    assert.deepEqual((await call(agents.aisp, 'GET', `/v1/consents/${consentId}/authorisations`)).body, {
      authorisationIds: [firstId, secondId],
    });
    assert.equal((await scaStatusOf(consentId, firstId)).body!.scaStatus, 'failed');
    assert.equal((await scaStatusOf(consentId, secondId)).body!.scaStatus, 'received');

    // The redirect URI is the consent's: another one on the start is refused, nothing written.
    const rows = await authorisationRows();
    const moved = await call(agents.aisp, 'POST', `/v1/consents/${consentId}/authorisations`, {
      headers: { 'TPP-Redirect-URI': 'https://elsewhere.example/cb' },
    });
    assert.equal(moved.status, 400);
    assert.deepEqual(
      moved.body!.tppMessages.map(({ code, path }) => [code, path]),
      [['FORMAT_ERROR', 'TPP-Redirect-URI']],
    );
    assert.equal(await authorisationRows(), rows);
  });

  test("another TPP's consent is CONSENT_UNKNOWN; an authorisation id not of this consent RESOURCE_UNKNOWN; nothing written", async () => {
    const mine = (await create()).body!;
    const mineId = scaStatusIdOf(mine);
    const other = (await create()).body!;
    const otherId = scaStatusIdOf(other);
    const rows = await authorisationRows();

    for (const [method, path] of [
      ['POST', `/v1/consents/${mine.consentId}/authorisations`],
      ['GET', `/v1/consents/${mine.consentId}/authorisations`],
      ['GET', `/v1/consents/${mine.consentId}/authorisations/${mineId}`],
    ] as const) {
      const refused = await call(agents.other, method, path, { headers: { 'TPP-Redirect-URI': REDIRECT } });
      assert.equal(refused.status, 403, `${method} ${path}`);
      assert.deepEqual(
        refused.body!.tppMessages.map(({ code }) => code),
        ['CONSENT_UNKNOWN'],
      );
    }
    for (const foreign of [otherId, randomUUID(), 'not-a-uuid']) {
      const unknown = await scaStatusOf(mine.consentId, foreign);
      assert.equal(unknown.status, 404, foreign);
      assert.deepEqual(
        unknown.body!.tppMessages.map(({ code }) => code),
        ['RESOURCE_UNKNOWN'],
      );
      described('get', '/v1/consents/{consentId}/authorisations/{authorisationId}', unknown);
    }
    const noConsent = await call(agents.aisp, 'POST', `/v1/consents/${randomUUID()}/authorisations`);
    assert.equal(noConsent.status, 403);
    assert.equal(await authorisationRows(), rows);
  });

  test('a consent that no longer awaits the customer allows no authorisation: STATUS_INVALID 409, nothing written', async () => {
    const created = (await create()).body!;
    const authorisationId = scaStatusIdOf(created);
    assert.equal((await call(agents.aisp, 'DELETE', `/v1/consents/${created.consentId}`)).status, 204);
    const rows = await authorisationRows();
    const refused = await call(agents.aisp, 'POST', `/v1/consents/${created.consentId}/authorisations`);
    assert.equal(refused.status, 409);
    assert.deepEqual(
      refused.body!.tppMessages.map(({ code }) => code),
      ['STATUS_INVALID'],
    );
    described('post', '/v1/consents/{consentId}/authorisations', refused);
    assert.equal(await authorisationRows(), rows);
    assert.equal(
      (await scaStatusOf(created.consentId, authorisationId)).body!.scaStatus,
      'failed',
      'withdrawn before the customer decided',
    );
  });

  test('a consent past its validUntil allows no authorisation (CONSENT_EXPIRED); starts racing a DELETE never outlive it', async () => {
    const stale = (await create()).body!;
    await assent.db
      .updateTable('consent')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', stale.consentId)
      .execute();
    const rows = await authorisationRows();
    const expired = await call(agents.aisp, 'POST', `/v1/consents/${stale.consentId}/authorisations`);
    assert.deepEqual([expired.status, expired.body!.tppMessages.map(({ code }) => code)], [401, ['CONSENT_EXPIRED']]);
    assert.equal(await authorisationRows(), rows);

    const raced = (await create({ 'TPP-Redirect-URI': REDIRECT, 'TPP-Explicit-Authorisation-Preferred': 'true' })).body!;
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, () => call(agents.aisp, 'POST', `/v1/consents/${raced.consentId}/authorisations`)),
      call(agents.aisp, 'DELETE', `/v1/consents/${raced.consentId}`),
    ]);
    const starts = answers.slice(0, -1);
    assert.equal(answers.at(-1)!.status, 204);
    assert.ok(
      starts.every((answer) => answer.status === 201 || (answer.status === 409 && answer.body!.tppMessages[0]!.code === 'STATUS_INVALID')),
      JSON.stringify(starts.map((answer) => answer.status)),
    );
    const { authorisationIds } = (await call(agents.aisp, 'GET', `/v1/consents/${raced.consentId}/authorisations`)).body!;
    assert.equal(authorisationIds.length, starts.filter((answer) => answer.status === 201).length, 'a 201 for each one stored, no other');
    const ended = await assent.db
      .selectFrom('consent')
      .select('status_updated_at')
      .where('id', '=', raced.consentId)
      .executeTakeFirstOrThrow();
    const started = await assent.db
      .selectFrom('consent_authorisation')
      .select('created_at')
      .where('consent_id', '=', raced.consentId)
      .execute();
    assert.ok(
      started.every((row) => row.created_at <= ended.status_updated_at),
      'every authorisation was started before the consent ended',
    );
  });

  test('a certificate without PSP_AI: ROLE_INVALID 401 on every authorisation route, nothing written', async () => {
    const created = (await create()).body!;
    const authorisationId = scaStatusIdOf(created);
    const rows = await authorisationRows();
    for (const [method, path] of [
      ['POST', `/v1/consents/${created.consentId}/authorisations`],
      ['GET', `/v1/consents/${created.consentId}/authorisations`],
      ['GET', `/v1/consents/${created.consentId}/authorisations/${authorisationId}`],
    ] as const) {
      const refused = await call(agents.pispOnly, method, path);
      assert.equal(refused.status, 401, `${method} ${path}`);
      assert.deepEqual(
        refused.body!.tppMessages.map(({ code }) => code),
        ['ROLE_INVALID'],
      );
    }
    assert.equal(await authorisationRows(), rows);
  });

  test('DECOUPLED approved on the device: valid with the named account, scaStatus finalised, no token; the bank API counts its accesses', async () => {
    const noticed = notices.length;
    const created = await createDecoupled(customer.username, {
      access: { accounts: [{ iban: girokonto.iban }], balances: [{ iban: girokonto.iban }] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    described('post', '/v1/consents', created);
    assert.equal(created.headers.get('aspsp-sca-approach'), 'DECOUPLED');
    const { consentId, _links: links } = created.body!;
    assert.equal(links.scaOAuth, undefined, 'no redirect to follow');
    const authorisationId = links.scaStatus!.href.split('/').at(-1)!;
    assert.equal((await scaStatusOf(consentId, authorisationId)).body!.scaStatus, 'started');

    const request = await pendingFor(consentId);
    assert.deepEqual(
      request.accounts.options.map(({ id }) => id),
      [girokonto.id],
      'only the account the consent names is offered',
    );
    assert.equal(notices.length, noticed + 1);
    assert.deepEqual(
      { ...notices.at(-1)!, expiresAt: undefined },
      {
        requestId: request.id,
        customerId: customer.id,
        clientId: AISP,
        tppName: notices.at(-1)!.tppName,
        bindingMessage: '',
        consentId,
        expiresAt: undefined,
      },
    );

    // Refused before the code is checked, so a spent code does no harm.
    const wrongAccount = await app.approve(request.id, { code: '000000', account_ids: [tagesgeld.id] });
    assert.equal(wrongAccount.status, 400, 'an account the consent does not name');
    assert.equal(await consentStatusOf(consentId), 'received');
    const approved = await app.approve(request.id, { code: await oneTimeCode(customer), account_ids: [girokonto.id] });
    assert.deepEqual([approved.status, approved.body], [200, { status: 'approved' }]);

    assert.equal(await consentStatusOf(consentId), 'valid');
    const status = await scaStatusOf(consentId, authorisationId);
    assert.deepEqual(status.body, { scaStatus: 'finalised' });
    const stored = await assent.db
      .selectFrom('consent')
      .select(['status', 'customer_id', 'grant_id', 'selected_account_ids'])
      .where('id', '=', consentId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(stored, { status: 'Authorised', customer_id: customer.id, grant_id: null, selected_account_ids: [girokonto.id] });
    const tokens = await assent.db
      .selectFrom('oidc_model')
      .select('model')
      .where(sql<boolean>`payload->>'clientId' = ${AISP}`)
      .execute();
    assert.deepEqual(tokens, [], 'no grant, no token for the TPP');
    const events = (await auditHistory(assent.db, 'consent', consentId)).map((event) => event.event);
    assert.deepEqual(events, ['consent.created', 'consent.authorisation_started', 'consent.authorised']);

    // The TPP reads with the Consent-ID; the bank's resource server checks and counts it.
    const bank = await TestResourceServer.create(assent, 'Accounts API');
    const access = await bank.call('POST', `/bank/consents/${consentId}/accesses`, {
      body: { resource: 'balances', accountId: girokonto.id },
    });
    assert.equal(access.status, 201, JSON.stringify(access.body));
    assert.equal((await app.approve(request.id, { code: '000000', account_ids: [girokonto.id] })).status, 409, 'decided once');
    const again = await call(agents.aisp, 'POST', `/v1/consents/${consentId}/authorisations`);
    assert.deepEqual(
      again.body!.tppMessages.map(({ code }) => code),
      ['STATUS_INVALID'],
    );
  });

  test('DECOUPLED denied on the device: rejected, scaStatus failed', async () => {
    const created = (await createDecoupled(customer.username)).body!;
    const authorisationId = scaStatusIdOf(created);
    const request = await pendingFor(created.consentId);
    assert.deepEqual(
      request.accounts.options.map(({ id }) => id).toSorted(),
      [girokonto.id, tagesgeld.id].toSorted(),
      'the customer picks the accounts of an open consent',
    );
    const denied = await app.deny(request.id);
    assert.deepEqual([denied.status, denied.body], [200, { status: 'denied' }]);
    assert.equal(await consentStatusOf(created.consentId), 'rejected');
    assert.deepEqual((await scaStatusOf(created.consentId, authorisationId)).body, { scaStatus: 'failed' });
    const events = (await auditHistory(assent.db, 'consent', created.consentId)).map((event) => event.event);
    assert.deepEqual(events, ['consent.created', 'consent.authorisation_started', 'consent.rejected']);

    // The customer's dashboard tells the consent's history in plain words, the started authorisation too.
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    await signInToDashboard(browser, assent.issuer, customer);
    const detail = pageText(await browser.open(new URL(`/dashboard/consents/${created.consentId}`, assent.issuer)));
    assert.match(detail, /Asked for access.*Asked you to approve it.*You Declined/s);
    assert.doesNotMatch(detail, /Changed/);
  });

  test('a PSU-ID that names no customer is answered alike and only lapses (failed); the TPP may start again', async () => {
    const noticed = notices.length;
    const known = await createDecoupled(customer.username);
    const unknown = await createDecoupled(`nobody-${randomUUID().slice(0, 8)}`);
    assert.equal(unknown.status, known.status);
    assert.equal(unknown.headers.get('aspsp-sca-approach'), 'DECOUPLED');
    assert.deepEqual(Object.keys(linksOf(unknown.body!)).toSorted(), Object.keys(linksOf(known.body!)).toSorted());
    const authorisationId = scaStatusIdOf(unknown.body!);
    assert.equal((await scaStatusOf(unknown.body!.consentId, authorisationId)).body!.scaStatus, 'started');
    assert.equal(notices.length, noticed + 1, 'only the known customer’s device is told');
    assert.equal((await app.pending()).filter((request) => request.consent.id === unknown.body!.consentId).length, 0);

    // Its request expires undecided (moved to its expiry rather than waited for).
    await sql`update decoupled_request set expires_at = now() - interval '1 second' where authorisation_id = ${authorisationId}`.execute(
      assent.db,
    );
    assert.equal((await scaStatusOf(unknown.body!.consentId, authorisationId)).body!.scaStatus, 'failed');
    assert.equal(await consentStatusOf(unknown.body!.consentId), 'received');
    const restarted = await call(agents.aisp, 'POST', `/v1/consents/${unknown.body!.consentId}/authorisations`, {
      headers: { 'TPP-Decoupled-Preferred': 'true', 'PSU-ID': customer.username },
    });
    assert.equal(restarted.status, 201);
    assert.equal(restarted.headers.get('aspsp-sca-approach'), 'DECOUPLED');
    assert.deepEqual(linksOf(restarted.body!), {
      scaStatus: { href: `/v1/consents/${unknown.body!.consentId}/authorisations/${restarted.body!.authorisationId}` },
    });
    assert.equal(restarted.body!.scaStatus, 'started');
    await pendingFor(unknown.body!.consentId);
  });

  test('DECOUPLED needs PSU-ID: without it, and without a redirect URI, FORMAT_ERROR and no consent', async () => {
    const consents = await consentCount(assent.db);
    const refused = await create({ 'TPP-Decoupled-Preferred': 'true' });
    assert.equal(refused.status, 400);
    assert.deepEqual(
      refused.body!.tppMessages.map(({ code, path }) => [code, path]),
      [['FORMAT_ERROR', 'TPP-Redirect-URI']],
    );
    assert.equal(await consentCount(assent.db), consents);
  });
});

import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Agent } from 'undici';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { authoriseConsent } from '../../src/consents/consent-service.ts';
import { openAccount, postgresAccountDirectory } from '../../src/customers/account-directory.ts';
import { KyselyAdapter } from '../../src/store/adapter.ts';
import type { Psd2Role } from '../../src/protocol/routes.ts';
import { type TestAssent, startTestAssent, tlsAgent } from '../support/assent.ts';
import { createTestCustomer } from '../support/customers.ts';
import { assertDescribed, bgCaller, qwacAgent } from '../support/berlin-group.ts';

/**
 * The Berlin Group AIS consent resource on a real Assent: real Postgres, real TLS, TPPs known only by a
 * QWAC-shaped client certificate from the dev CA (no registration): created, read, terminated by the TPP;
 * the refusals (headers, role, certificate, another TPP's consent) in the NextGenPSD2 shape; hostile bodies
 * answered 400 or 413 and nothing written.
 */

const REDIRECT = 'https://tpp.example/cb';

/** The fields of the Berlin Group answers these tests read. */
interface BgAnswer {
  tppMessages: { code: string; path?: string }[];
  consentId: string;
  consentStatus: string;
  _links: Record<string, { href: string }>;
  access: unknown;
  recurringIndicator: boolean;
  frequencyPerDay: number;
  validUntil: string;
}

const body = {
  access: { accounts: [], balances: [] },
  recurringIndicator: true,
  validUntil: '9999-12-31',
  frequencyPerDay: 4,
  combinedServiceIndicator: false,
};

describe('Berlin Group AIS consents over mTLS with a QWAC', () => {
  let assent: TestAssent;
  let base: string;
  const agents: Record<'aisp' | 'other' | 'pispOnly' | 'none', Agent> = {} as never;

  const qwac = (organizationId: string, roles: Psd2Role[]) => qwacAgent(assent, organizationId, roles, 'Kontoblick GmbH');

  const call = bgCaller<BgAnswer>(() => base);

  const create = (agent: Agent, overrides: Record<string, unknown> = {}) =>
    call(agent, 'POST', '/v1/consents', {
      headers: { 'TPP-Redirect-URI': REDIRECT, 'PSU-IP-Address': '192.0.2.1' },
      body: JSON.stringify({ ...body, ...overrides }),
    });

  const consentRows = async () => {
    const row = await assent.db
      .selectFrom('consent')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  };

  const described = (method: string, template: string, answer: { status: number; body?: BgAnswer }) =>
    assertDescribed(assent.provider.issuer, method, template, answer);

  const tppRows = async () => (await assent.db.selectFrom('tpp').select('client_id').execute()).length;

  before(async () => {
    assent = await startTestAssent();
    base = `https://localhost:${assent.port}`;
    agents.aisp = await qwac('PSDDE-BAFIN-123456', ['PSP_AI']);
    agents.other = await qwac('PSDDE-BAFIN-654321', ['PSP_AI', 'PSP_PI']);
    agents.pispOnly = await qwac('PSDDE-BAFIN-777777', ['PSP_PI']);
    agents.none = tlsAgent(assent.ca.certPem);
  });
  after(async () => {
    await Promise.all(Object.values(agents).map((agent) => agent.close()));
    await assent?.stop();
  });

  test('created (received, scaOAuth), read, its status; terminated by the TPP', async () => {
    const created = await create(agents.aisp);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get('x-request-id'), created.requestId);
    assert.equal(created.headers.get('aspsp-sca-approach'), 'REDIRECT');
    assert.equal(created.body!.consentStatus, 'received');
    const consentId = created.body!.consentId as string;
    assert.equal(created.headers.get('location'), `${assent.provider.issuer}/v1/consents/${consentId}`);
    const { _links: links } = created.body!;
    // Started with the consent (implicit start), so the TPP can poll its scaStatus.
    const scaStatusHref = links.scaStatus?.href ?? '';
    assert.match(scaStatusHref, new RegExp(`^/v1/consents/${consentId}/authorisations/[0-9a-f-]{36}$`));
    assert.deepEqual(links, {
      scaOAuth: { href: `${assent.provider.issuer}/.well-known/oauth-authorization-server` },
      scaStatus: { href: scaStatusHref },
      self: { href: `/v1/consents/${consentId}` },
      status: { href: `/v1/consents/${consentId}/status` },
    });

    const stored = await assent.db.selectFrom('consent').selectAll().where('id', '=', consentId).executeTakeFirstOrThrow();
    assert.equal(stored.client_id, 'PSDDE-BAFIN-123456');
    assert.equal(stored.standard, 'berlin_group');
    assert.equal(stored.redirect_uri, REDIRECT);
    assert.equal(stored.frequency_per_day, 4);

    described('post', '/v1/consents', created);
    const read = await call(agents.aisp, 'GET', `/v1/consents/${consentId}`);
    assert.equal(read.status, 200);
    described('get', '/v1/consents/{consentId}', read);
    assert.equal(read.headers.get('x-request-id'), read.requestId);
    assert.deepEqual(read.body!.access, { accounts: [], balances: [] });
    assert.equal(read.body!.consentStatus, 'received');
    assert.equal(read.body!.recurringIndicator, true);
    assert.equal(read.body!.frequencyPerDay, 4);
    assert.notEqual(read.body!.validUntil, '9999-12-31', "adjusted to the bank's latest date");
    const status = await call(agents.aisp, 'GET', `/v1/consents/${consentId}/status`);
    assert.deepEqual([status.status, status.body], [200, { consentStatus: 'received' }]);
    described('get', '/v1/consents/{consentId}/status', status);

    const deleted = await call(agents.aisp, 'DELETE', `/v1/consents/${consentId}`);
    assert.equal(deleted.status, 204);
    described('delete', '/v1/consents/{consentId}', deleted);
    assert.equal(deleted.headers.get('x-request-id'), deleted.requestId);
    const ended = await call(agents.aisp, 'GET', `/v1/consents/${consentId}/status`);
    assert.deepEqual(ended.body, { consentStatus: 'terminatedByTpp' });
    const events = (await auditHistory(assent.db, 'consent', consentId)).map((event) => event.event);
    assert.deepEqual(events, ['consent.created', 'consent.authorisation_started', 'consent.rejected']);
    const again = await call(agents.aisp, 'DELETE', `/v1/consents/${consentId}`);
    assert.equal(again.status, 409);
    assert.equal(again.body!.tppMessages[0]?.code, 'STATUS_INVALID');
    described('delete', '/v1/consents/{consentId}', again);
  });

  test('an authorised consent: valid; DELETE revokes it with its grant and tokens in one step, terminatedByTpp', async () => {
    const consentId = (await create(agents.aisp)).body!.consentId;
    const customer = await createTestCustomer(assent.db);
    const account = await openAccount(assent.db, {
      customerId: customer.id,
      schemeName: 'UK.OBIE.IBAN',
      identification: 'DE89370400440532013000',
      name: 'Girokonto',
      currency: 'EUR',
      accountType: 'Personal',
      accountSubtype: 'CurrentAccount',
    });
    const grantId = `grant-${randomUUID()}`;
    await new KyselyAdapter(assent.db, 'Grant').upsert(grantId, { jti: grantId, kind: 'Grant' }, 3600);
    await new KyselyAdapter(assent.db, 'AccessToken').upsert(`at-${grantId}`, { jti: `at-${grantId}`, grantId, kind: 'AccessToken' }, 3600);
    await authoriseConsent(assent.db, postgresAccountDirectory(assent.db), {
      consentId,
      clientId: 'PSDDE-BAFIN-123456',
      customerId: customer.id,
      accountIds: [account.id],
      grantId,
    });
    assert.equal((await call(agents.aisp, 'GET', `/v1/consents/${consentId}/status`)).body!.consentStatus, 'valid');

    assert.equal((await call(agents.aisp, 'DELETE', `/v1/consents/${consentId}`)).status, 204);
    assert.equal((await call(agents.aisp, 'GET', `/v1/consents/${consentId}/status`)).body!.consentStatus, 'terminatedByTpp');
    const stored = await assent.db
      .selectFrom('consent')
      .select(['status', 'ended_by'])
      .where('id', '=', consentId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(stored, { status: 'Revoked', ended_by: 'tpp' });
    const tokens = await assent.db
      .selectFrom('oidc_model')
      .select('id')
      .where((eb) => eb.or([eb('id', '=', grantId), eb('grant_id', '=', grantId)]))
      .execute();
    assert.deepEqual(tokens, [], 'the grant and its access token are gone');
    const events = (await auditHistory(assent.db, 'consent', consentId)).map((event) => event.event);
    assert.deepEqual(events, ['consent.created', 'consent.authorisation_started', 'consent.authorised', 'consent.revoked']);
  });

  test('another TPP cannot read, see the status of or delete a consent: CONSENT_UNKNOWN 403; GETs write nothing', async () => {
    const created = await create(agents.aisp);
    const consentId = created.body!.consentId as string;
    const first = await assent.db.selectFrom('consent').selectAll().where('id', '=', consentId).executeTakeFirstOrThrow();
    for (const [method, path] of [
      ['GET', `/v1/consents/${consentId}`],
      ['GET', `/v1/consents/${consentId}/status`],
      ['DELETE', `/v1/consents/${consentId}`],
      ['GET', `/v1/consents/${randomUUID()}`],
      ['GET', '/v1/consents/not-a-uuid/status'],
    ] as const) {
      const answer = await call(agents.other, method, path);
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.equal(answer.body!.tppMessages[0]?.code, 'CONSENT_UNKNOWN');
      described(method.toLowerCase(), path.endsWith('/status') ? '/v1/consents/{consentId}/status' : '/v1/consents/{consentId}', answer);
      assert.equal(answer.headers.get('x-request-id'), answer.requestId);
    }
    await call(agents.aisp, 'GET', `/v1/consents/${consentId}`);
    const then = await assent.db.selectFrom('consent').selectAll().where('id', '=', consentId).executeTakeFirstOrThrow();
    assert.deepEqual(then, first);
    assert.equal((await call(agents.aisp, 'GET', `/v1/consents/${consentId}/status`)).body!.consentStatus, 'received');
  });

  test('several recurring consents of one TPP are valid side by side', async () => {
    const ids = await Promise.all([create(agents.aisp), create(agents.aisp), create(agents.aisp)]);
    assert.deepEqual(
      ids.map((answer) => answer.status),
      [201, 201, 201],
    );
    assert.equal(new Set(ids.map((answer) => answer.body!.consentId)).size, 3);
  });

  test('X-Request-ID is required (FORMAT_ERROR 400) and echoed only when well formed', async () => {
    const rows = await consentRows();
    const missing = await call(agents.aisp, 'POST', '/v1/consents', {
      requestId: null,
      headers: { 'TPP-Redirect-URI': REDIRECT },
      body: JSON.stringify(body),
    });
    assert.equal(missing.status, 400);
    assert.equal(missing.body!.tppMessages[0]?.code, 'FORMAT_ERROR');
    described('post', '/v1/consents', missing);
    assert.equal(missing.headers.get('x-request-id'), null);
    const malformed = await call(agents.aisp, 'GET', `/v1/consents/${randomUUID()}`, { requestId: 'not-a-uuid' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body!.tppMessages[0]?.code, 'FORMAT_ERROR');
    assert.equal(malformed.headers.get('x-request-id'), null);
    const noRedirect = await call(agents.aisp, 'POST', '/v1/consents', { body: JSON.stringify(body) });
    assert.equal(noRedirect.status, 400);
    assert.equal(noRedirect.body!.tppMessages[0]?.path, 'TPP-Redirect-URI');
    assert.equal(noRedirect.headers.get('x-request-id'), noRedirect.requestId);
    assert.equal(await consentRows(), rows);
  });

  test('a certificate without PSP_AI: ROLE_INVALID 401, and no TPP row on its first contact; no client certificate: CERTIFICATE_INVALID 401; nothing written', async () => {
    const rows = await consentRows();
    const tppsBefore = await tppRows();
    const pisp = await create(agents.pispOnly);
    assert.equal(pisp.status, 401);
    assert.equal(pisp.body!.tppMessages[0]?.code, 'ROLE_INVALID');
    described('post', '/v1/consents', pisp);
    assert.equal(pisp.headers.get('x-request-id'), pisp.requestId);
    const tpps = await tppRows();
    assert.equal(tpps, tppsBefore, 'a TPP refused for its role makes no TPP row either');
    const anonymous = await create(agents.none);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body!.tppMessages[0]?.code, 'CERTIFICATE_INVALID');
    assert.equal(anonymous.headers.get('x-request-id'), anonymous.requestId);
    assert.equal(await consentRows(), rows);
    assert.equal(await tppRows(), tpps, 'a caller without a certificate makes no TPP');
  });

  test('hostile bodies: 400 or 413, never 5xx, nothing written', async () => {
    const rows = await consentRows();
    const bodies = [
      '',
      'not json',
      '[]',
      'null',
      '{"access":',
      JSON.stringify({ ...body, access: { accounts: [{ iban: 'DE00' }] } }),
      JSON.stringify({ ...body, access: { allPsd2: 'allAccounts', accounts: [] } }),
      JSON.stringify({ ...body, frequencyPerDay: -1 }),
      JSON.stringify({ ...body, frequencyPerDay: 1e308 }),
      JSON.stringify({ ...body, validUntil: '2020-01-01' }),
      JSON.stringify({ ...body, recurringIndicator: 'yes' }),
      JSON.stringify({ ...body, __proto__: { admin: true }, constructor: { prototype: {} } }),
      JSON.stringify({ ...body, extra: 'x'.repeat(10_000) }),
      `{"access":${'['.repeat(5000)}`,
      JSON.stringify({ ...body, access: { accounts: [{ iban: 'DE89370400440532013000\u0000' }] } }),
      `{"access":{"accounts":[{"iban":"\\ud800"}]}}`,
      JSON.stringify({ ...body, access: { accounts: Array.from({ length: 10_000 }, () => ({ iban: 'DE89370400440532013000' })) } }),
      'x'.repeat(2_000_000),
    ];
    for (const sent of bodies) {
      const answer = await call(agents.aisp, 'POST', '/v1/consents', { headers: { 'TPP-Redirect-URI': REDIRECT }, body: sent });
      assert.ok([400, 413].includes(answer.status), `${answer.status} for ${sent.slice(0, 60)}`);
      if (answer.status === 400) assert.equal(answer.body!.tppMessages[0]?.code, 'FORMAT_ERROR', sent.slice(0, 60));
    }
    const wrongType = await call(agents.aisp, 'POST', '/v1/consents', {
      headers: { 'TPP-Redirect-URI': REDIRECT, 'Content-Type': 'text/plain' },
      body: JSON.stringify(body),
    });
    assert.ok(wrongType.status < 500, String(wrongType.status));
    for (const [name, value] of [
      ['TPP-Redirect-URI', 'javascript:alert(1)'],
      ['PSU-IP-Address', 'not an address'],
      ['TPP-Redirect-Preferred', 'maybe'],
    ] as const) {
      const answer = await call(agents.aisp, 'POST', '/v1/consents', {
        headers: { 'TPP-Redirect-URI': REDIRECT, [name]: value },
        body: JSON.stringify(body),
      });
      assert.equal(answer.status, 400, `${name}: ${value}`);
    }
    assert.equal(await consentRows(), rows);
  });

  test('under /v1: an unknown path is RESOURCE_UNKNOWN, an unknown method SERVICE_INVALID, never the provider', async () => {
    const unknown = await call(agents.aisp, 'GET', '/v1/accounts');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body!.tppMessages[0]?.code, 'RESOURCE_UNKNOWN');
    const method = await call(agents.aisp, 'PUT', `/v1/consents/${randomUUID()}`, { body: '{}' });
    assert.equal(method.status, 405);
    assert.equal(method.body!.tppMessages[0]?.code, 'SERVICE_INVALID');
  });
});

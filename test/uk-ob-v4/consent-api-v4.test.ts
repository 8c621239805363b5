import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import nodePath from 'node:path';
import { describe, test } from 'node:test';
import { fetch } from 'undici';
import { ADMIN_API_PREFIX } from '../../src/admin/admin-operations.ts';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { searchConsents } from '../../src/consents/consent-service.ts';
import {
  ACCOUNT_ACCESS,
  ACCOUNT_ACCESS_V4,
  accountAccessRequest,
  type ApiResponse,
  ConsentApiClient,
  consentCount,
  FUNDS_CONFIRMATION,
  FUNDS_CONFIRMATION_V4,
  fundsConfirmationRequest,
} from '../support/consent-api.ts';
import { tlsAgent } from '../support/assent.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';

interface V4Envelope {
  Id: string;
  Errors: { ErrorCode: string; Message: string; Path?: string }[];
}
interface V4Consent {
  Data: {
    ConsentId: string;
    Status: string;
    Permissions: string[];
    CreationDateTime: string;
    StatusUpdateDateTime: string;
    ExpirationDateTime?: string;
  };
  Risk: Record<string, unknown>;
  Links: { Self: string };
  Meta: { TotalPages: number };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A v4.0 error: its status, and an entry with the 4-character code (and path); never v3.1's top-level Code and Message. */
function assertV4Error(response: ApiResponse, status: number, code: string, field?: string) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  const envelope = response.body as V4Envelope;
  assert.deepEqual(Object.keys(envelope).toSorted(), ['Errors', 'Id']);
  assert.match(envelope.Id, UUID);
  const match = envelope.Errors.find((error) => error.ErrorCode === code && (field === undefined || error.Path === field));
  assert.ok(match, `expected ${code} at ${field ?? '(any path)'}, got ${JSON.stringify(envelope.Errors)}`);
  assert.match(match.Message, /^UK\.OBIE\.[A-Za-z.]+ - ./, 'the message starts with the v3.1 name, as the profile example does');
}

describe('UK OB v4.0 account-access consents', () => {
  const assent = useAssent();
  const tppA = useConsentApi(assent, useTpp(assent));
  const tppB = useConsentApi(assent, useTpp(assent, { auth: 'tls_client_auth' }));

  async function createV4(api = tppA) {
    const created = await api.call('POST', ACCOUNT_ACCESS_V4, { body: accountAccessRequest() });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as V4Consent;
  }

  test('a consent is created in v4.0 words, read back, audited, and recorded as created in v4.0', async () => {
    const interactionId = randomUUID();
    const created = await tppA.call('POST', ACCOUNT_ACCESS_V4, {
      body: accountAccessRequest(),
      headers: { 'x-fapi-interaction-id': interactionId },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get('x-fapi-interaction-id'), interactionId);
    const body = created.body as V4Consent;
    assert.equal(body.Data.Status, 'AWAU');
    assert.match(body.Data.ConsentId, UUID);
    assert.deepEqual(body.Data.Permissions, accountAccessRequest().Data.Permissions);
    assert.deepEqual(body.Risk, {});
    assert.deepEqual(body.Meta, { TotalPages: 1 });
    assert.equal(body.Links.Self, `${assent.issuer}${ACCOUNT_ACCESS_V4}/${body.Data.ConsentId}`);

    const read = await tppA.call('GET', `${ACCOUNT_ACCESS_V4}/${body.Data.ConsentId}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, body);
    const row = await assent.db
      .selectFrom('consent')
      .select(['standard', 'type'])
      .where('id', '=', body.Data.ConsentId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { standard: 'uk_ob_v4', type: 'account_access' });
    const history = await auditHistory(assent.db, 'consent', body.Data.ConsentId);
    assert.deepEqual(
      history.map((event) => [event.event, event.actor.kind, event.actor.id]),
      [['consent.created', 'tpp', tppA.tpp.clientId]],
    );
    // Operators find consents by the version that created them.
    const v4 = await searchConsents(assent.db, { clientId: tppA.tpp.clientId, standard: 'uk_ob_v4', limit: 100 });
    assert.ok(v4.some((consent) => consent.id === body.Data.ConsentId));
    assert.ok(v4.every((consent) => consent.standard === 'uk_ob_v4'));
    const v3 = await searchConsents(assent.db, { clientId: tppA.tpp.clientId, standard: 'uk_ob_v3', limit: 100 });
    assert.ok(!v3.some((consent) => consent.id === body.Data.ConsentId));
  });

  test("operators see the version: the admin API's consent:search filters by standard, consent:show names it", async () => {
    const v4 = await createV4();
    const v3 = await tppA.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() });
    const v3Id = (v3.body as V4Consent).Data.ConsentId;
    const token = (await readFile(nodePath.join(assent.dataDir, 'admin-token'), 'utf8')).trim();
    const admin = async (route: string) => {
      const response = await fetch(`${assent.adminUrl}${ADMIN_API_PREFIX}${route}`, {
        dispatcher: tlsAgent(assent.ca.certPem),
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: response.status, body: (await response.json()) as unknown };
    };
    const client = encodeURIComponent(tppA.tpp.clientId);
    const found = await admin(`/consents?tpp=${client}&standard=uk_ob_v4`);
    assert.equal(found.status, 200, JSON.stringify(found.body));
    const ids = (found.body as { id: string; standard: string }[]).map((consent) => consent.id);
    assert.ok(ids.includes(v4.Data.ConsentId));
    assert.ok(!ids.includes(v3Id));
    assert.ok((found.body as { standard: string }[]).every((consent) => consent.standard === 'uk_ob_v4'));
    const v3Found = (await admin(`/consents?tpp=${client}&standard=uk_ob_v3`)).body as { id: string }[];
    assert.ok(v3Found.some((consent) => consent.id === v3Id));
    assert.equal((await admin(`/consents?standard=uk_ob_v5`)).status, 400);
    const shown = (await admin(`/consents/${v4.Data.ConsentId}`)).body as { standard: string; history: unknown[] };
    assert.equal(shown.standard, 'uk_ob_v4');
  });

  test('the database accepts the three standards and nothing else', async () => {
    const { Data } = await createV4();
    await assert.rejects(
      assent.db
        .updateTable('consent')
        .set({ standard: 'uk_ob_v5' as never })
        .where('id', '=', Data.ConsentId)
        .execute(),
      /consent_standard_check/,
    );
  });

  test('v4.0 validates as strictly as v3.1, answers U0xx codes with paths, and a refused request changes nothing', async () => {
    const before = await consentCount(assent.db);
    const { Data } = accountAccessRequest();
    const cases: [unknown, string, string][] = [
      // v4.0 makes Risk mandatory (OBReadConsent1 "required": ["Data", "Risk"]) and empty (OBRisk2).
      [{ Data }, 'U004', 'Risk'],
      [{ Data, Risk: { PaymentContextCode: 'EcommerceGoods' } }, 'U005', 'Risk.PaymentContextCode'],
      // The rest is v3.1's rule, in v4.0's code.
      [{ Data: { ...Data, Permissions: ['ReadEverything'] }, Risk: {} }, 'U002', 'Data.Permissions[0]'],
      [{ Data: { ...Data, Permissions: ['ReadBalances'] }, Risk: {} }, 'U002', 'Data.Permissions'],
      [{ Data: { ...Data, Permissions: ['ReadAccountsBasic', 'ReadTransactionsBasic'] }, Risk: {} }, 'U002', 'Data.Permissions'],
      [{ Data: { ...Data, Permissions: [] }, Risk: {} }, 'U002', 'Data.Permissions'],
      [{ Data: { ...Data, ExpirationDateTime: '2020-01-01T00:00:00Z' }, Risk: {} }, 'U003', 'Data.ExpirationDateTime'],
      [{ Data: { ...Data, ExpirationDateTime: 'tomorrow' }, Risk: {} }, 'U003', 'Data.ExpirationDateTime'],
      [{ Risk: {} }, 'U004', 'Data'],
    ];
    for (const [body, code, field] of cases) assertV4Error(await tppA.call('POST', ACCOUNT_ACCESS_V4, { body }), 400, code, field);
    assertV4Error(await tppA.call('POST', ACCOUNT_ACCESS_V4, { body: '{"Data": ' }), 400, 'U010');
    assertV4Error(
      await tppA.call('POST', ACCOUNT_ACCESS_V4, { body: accountAccessRequest(), headers: { 'x-fapi-interaction-id': 'not-a-uuid' } }),
      400,
      'U006',
      'x-fapi-interaction-id',
    );
    assertV4Error(
      await tppA.call('POST', ACCOUNT_ACCESS_V4, {
        body: JSON.stringify(accountAccessRequest()),
        headers: { 'content-type': 'text/plain' },
      }),
      415,
      'U006',
    );
    // NUL is refused at the edge, before any router, in the envelope of the version the path names.
    assertV4Error(
      await tppA.call('POST', ACCOUNT_ACCESS_V4, { body: accountAccessRequest({ Permissions: ['ReadAccountsBasic\u0000'] }) }),
      400,
      'U002',
    );
    assert.equal(await consentCount(assent.db), before);
  });

  test('the same request rules hold in v3.1, which still leaves Risk optional and answers UK.OBIE codes', async () => {
    const { Data } = accountAccessRequest();
    const v3 = await tppA.call('POST', ACCOUNT_ACCESS, { body: { Data } });
    assert.equal(v3.status, 201, 'v3.1 is unchanged: Risk may be left out');
    const refused = await tppA.call('POST', ACCOUNT_ACCESS, { body: { Data: { ...Data, Permissions: ['ReadBalances'] } } });
    assert.equal(refused.status, 400);
    assert.equal((refused.body as { Errors: { ErrorCode: string }[] }).Errors[0]!.ErrorCode, 'UK.OBIE.Field.Invalid');
  });

  test('an x-idempotency-key is ignored on v4.0 account access, as the profile says of endpoints without one', async () => {
    const key = randomUUID();
    const first = await tppA.call('POST', ACCOUNT_ACCESS_V4, { body: accountAccessRequest(), headers: { 'x-idempotency-key': key } });
    const other = accountAccessRequest({ Permissions: ['ReadAccountsBasic'] });
    const second = await tppA.call('POST', ACCOUNT_ACCESS_V4, { body: other, headers: { 'x-idempotency-key': key } });
    assert.equal(first.status, 201);
    assert.equal(second.status, 201, JSON.stringify(second.body));
    assert.notEqual((first.body as V4Consent).Data.ConsentId, (second.body as V4Consent).Data.ConsentId);
    assert.deepEqual((second.body as V4Consent).Data.Permissions, ['ReadAccountsBasic']);
  });

  test("an unknown consent and another TPP's answer the same 404 U011; GETs write nothing", async () => {
    const { Data } = await createV4();
    const history = await auditHistory(assent.db, 'consent', Data.ConsentId);
    for (const [api, id] of [
      [tppA, randomUUID()],
      [tppA, 'not-a-uuid'],
      [tppB, Data.ConsentId],
    ] as const) {
      assertV4Error(await api.call('GET', `${ACCOUNT_ACCESS_V4}/${id}`), 404, 'U011', 'ConsentId');
      assertV4Error(await api.call('DELETE', `${ACCOUNT_ACCESS_V4}/${id}`), 404, 'U011', 'ConsentId');
    }
    assert.deepEqual(await auditHistory(assent.db, 'consent', Data.ConsentId), history);
    assert.equal((await tppA.call('GET', `${ACCOUNT_ACCESS_V4}/${Data.ConsentId}`)).status, 200);
  });

  test('a token is refused: none or a bad one is a 401 without a body (v4.0), the wrong scope a 403 U006', async () => {
    const none = await tppA.raw('GET', `${ACCOUNT_ACCESS_V4}/${randomUUID()}`, {});
    assert.equal(none.status, 401);
    assert.equal(none.body, undefined);
    assert.match(none.headers.get('www-authenticate') ?? '', /^(DPoP|Bearer)/);
    const bad = await tppA.raw('GET', `${ACCOUNT_ACCESS_V4}/${randomUUID()}`, { authorization: 'Bearer not-a-token' });
    assert.equal(bad.status, 401);
    assert.equal(bad.body, undefined);

    const payments = await ConsentApiClient.create(assent, tppA.tpp, 'payments');
    assertV4Error(await payments.call('POST', ACCOUNT_ACCESS_V4, { body: accountAccessRequest() }), 403, 'U006', 'Authorization');
  });

  test('DELETE withdraws a consent awaiting authorisation (RJCT); a second DELETE is U009 and changes nothing', async () => {
    const { Data } = await createV4();
    const deleted = await tppA.call('DELETE', `${ACCOUNT_ACCESS_V4}/${Data.ConsentId}`);
    assert.equal(deleted.status, 204);
    assert.equal(deleted.body, undefined);
    const read = (await tppA.call('GET', `${ACCOUNT_ACCESS_V4}/${Data.ConsentId}`)).body as V4Consent;
    assert.equal(read.Data.Status, 'RJCT');
    const history = await auditHistory(assent.db, 'consent', Data.ConsentId);
    assert.deepEqual(
      history.map((event) => [event.event, event.actor.kind]),
      [
        ['consent.created', 'tpp'],
        ['consent.rejected', 'tpp'],
      ],
    );
    assertV4Error(await tppA.call('DELETE', `${ACCOUNT_ACCESS_V4}/${Data.ConsentId}`), 400, 'U009', 'Status');
    assert.deepEqual(await auditHistory(assent.db, 'consent', Data.ConsentId), history);
  });

  test('a v4.0 consent reads through v3.1 in v3.1 words, and a v3.1 consent through v4.0 in v4.0 words', async () => {
    const v4 = await createV4();
    const asV3 = await tppA.call('GET', `${ACCOUNT_ACCESS}/${v4.Data.ConsentId}`);
    assert.equal(asV3.status, 200);
    const v3Body = asV3.body as V4Consent;
    assert.equal(v3Body.Data.Status, 'AwaitingAuthorisation');
    assert.deepEqual(v3Body.Data.Permissions, v4.Data.Permissions);
    assert.equal(v3Body.Links.Self, `${assent.issuer}${ACCOUNT_ACCESS}/${v4.Data.ConsentId}`);

    // A v3.1 consent whose Risk held what v3.1 let through: v4.0's OBRisk2 has no fields.
    const v3 = await tppA.call('POST', ACCOUNT_ACCESS, { body: { ...accountAccessRequest(), Risk: { Merchant: 'x' } } });
    assert.equal(v3.status, 201);
    const v3Id = (v3.body as V4Consent).Data.ConsentId;
    const asV4 = (await tppA.call('GET', `${ACCOUNT_ACCESS_V4}/${v3Id}`)).body as V4Consent;
    assert.equal(asV4.Data.Status, 'AWAU');
    assert.deepEqual(asV4.Risk, {});
    assert.deepEqual(asV4.Data.Permissions, (v3.body as V4Consent).Data.Permissions);
    assert.equal(asV4.Data.CreationDateTime, (v3.body as V4Consent).Data.CreationDateTime);
    assert.deepEqual(((await tppA.call('GET', `${ACCOUNT_ACCESS}/${v3Id}`)).body as V4Consent).Risk, { Merchant: 'x' });
  });

  test('funds-confirmation consents: created, validated, read across versions and deleted in v4.0 words', async () => {
    const created = await tppA.call('POST', FUNDS_CONFIRMATION_V4, { body: fundsConfirmationRequest() });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const body = created.body as { Data: { ConsentId: string; Status: string; DebtorAccount: unknown }; Links: { Self: string } };
    assert.equal(body.Data.Status, 'AWAU');
    assert.deepEqual(body.Data.DebtorAccount, fundsConfirmationRequest().Data.DebtorAccount);
    assert.equal(body.Links.Self, `${assent.issuer}${FUNDS_CONFIRMATION_V4}/${body.Data.ConsentId}`);
    const row = await assent.db
      .selectFrom('consent')
      .select(['standard', 'type'])
      .where('id', '=', body.Data.ConsentId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { standard: 'uk_ob_v4', type: 'funds_confirmation' });

    const before = await consentCount(assent.db);
    const account = fundsConfirmationRequest().Data.DebtorAccount;
    const refusals: [unknown, string, string][] = [
      [{ Data: { ExpirationDateTime: fundsConfirmationRequest().Data.ExpirationDateTime } }, 'U004', 'Data.DebtorAccount'],
      [fundsConfirmationRequest({ DebtorAccount: { ...account, SchemeName: 'UK.OBIE.Wallet' } }), 'U027', 'Data.DebtorAccount.SchemeName'],
      [fundsConfirmationRequest({ DebtorAccount: { ...account, Identification: '12' } }), 'U021', 'Data.DebtorAccount.Identification'],
      [fundsConfirmationRequest({ ExpirationDateTime: '2020-01-01T00:00:00Z' }), 'U003', 'Data.ExpirationDateTime'],
    ];
    for (const [request, code, field] of refusals)
      assertV4Error(await tppA.call('POST', FUNDS_CONFIRMATION_V4, { body: request }), 400, code, field);
    const accountsOnly = await ConsentApiClient.create(assent, tppA.tpp, 'accounts');
    assertV4Error(await accountsOnly.call('POST', FUNDS_CONFIRMATION_V4, { body: fundsConfirmationRequest() }), 403, 'U006');
    assert.equal(await consentCount(assent.db), before);

    // Each resource serves its own type: an account-access consent is not a funds-confirmation consent.
    const access = await createV4();
    assertV4Error(await tppA.call('GET', `${FUNDS_CONFIRMATION_V4}/${access.Data.ConsentId}`), 404, 'U011');
    assertV4Error(await tppA.call('GET', `${ACCOUNT_ACCESS_V4}/${body.Data.ConsentId}`), 404, 'U011');

    // A v3.1 funds-confirmation consent reads and deletes through v4.0.
    const v3 = await tppA.call('POST', FUNDS_CONFIRMATION, { body: fundsConfirmationRequest() });
    const v3Id = (v3.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const asV4 = await tppA.call('GET', `${FUNDS_CONFIRMATION_V4}/${v3Id}`);
    assert.equal(asV4.status, 200);
    assert.equal((asV4.body as { Data: { Status: string } }).Data.Status, 'AWAU');
    assert.equal((await tppA.call('DELETE', `${FUNDS_CONFIRMATION_V4}/${v3Id}`)).status, 204);
    assert.equal(((await tppA.call('GET', `${FUNDS_CONFIRMATION}/${v3Id}`)).body as { Data: { Status: string } }).Data.Status, 'Rejected');
    assert.equal(((await tppA.call('GET', `${FUNDS_CONFIRMATION_V4}/${v3Id}`)).body as { Data: { Status: string } }).Data.Status, 'RJCT');
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { sql } from 'kysely';
import { openApiDocument } from '../../src/openapi/document.ts';
import { auditHistory, verifyAuditChain } from '../../src/audit/audit-trail.ts';
import type { ConsentDraft } from '../../src/consents/consent.ts';
import { recordConsentAccess } from '../../src/consents/consent-access.ts';
import { authoriseConsent, createConsent, revokeConsent } from '../../src/consents/consent-service.ts';
import { postgresAccountDirectory } from '../../src/customers/account-directory.ts';
import { connectDatabase } from '../../src/db/connect.ts';
import { type TestAssent, startTestAssent } from '../support/assent.ts';
import type { MovableClock } from '../support/clock.ts';
import {
  ACCOUNT_ACCESS,
  accountAccessRequest,
  type ApiResponse,
  ConsentApiClient,
  DOMESTIC_PAYMENT,
  domesticPaymentRequest,
} from '../support/consent-api.ts';
import { customerWithAccounts } from '../support/granted-consents.ts';
import { TestResourceServer } from '../support/resource-server.ts';
import { createTestTpp } from '../support/tpp.ts';

/**
 * Issue 28, access counting: the bank's resource server records each account access through the bank API;
 * frequencyPerDay limits the accesses without the customer present, per consent per bank day
 * (BANK_TIME_ZONE, here Asia/Tokyo so the bank's day is not UTC's), decided under the consent's row lock
 * on the database's clock.
 */

interface Recorded {
  Data: {
    ConsentId: string;
    AccessedAt: string;
    CustomerPresent: boolean;
    AccessesToday: number;
    FrequencyPerDay: number | null;
    Remaining: number | null;
  };
}
interface ObEnvelope {
  Errors: { ErrorCode: string; Message: string; Path?: string }[];
}

const BANK_TIME_ZONE = 'Asia/Tokyo';
const TOKYO_OFFSET_MS = 9 * 3_600_000;
const DAY_MS = 86_400_000;
/** The first instant of the next day in Tokyo (no daylight saving there). */
const nextTokyoMidnight = (now: number) => new Date((Math.floor((now + TOKYO_OFFSET_MS) / DAY_MS) + 1) * DAY_MS - TOKYO_OFFSET_MS);
const tokyoDate = (instant: Date) => new Date(instant.getTime() + TOKYO_OFFSET_MS).toISOString().slice(0, 10);

function draft(frequencyPerDay: number | null, expiresAt: Date): ConsentDraft {
  return {
    type: 'account_access',
    standard: 'berlin_group',
    reads: [
      { scope: 'accounts.detail', accounts: null },
      { scope: 'balances', accounts: null },
      { scope: 'transactions.detail', accounts: null },
    ],
    expiresAt,
    transactionFrom: null,
    transactionTo: null,
    recurring: true,
    frequencyPerDay,
    combinedService: false,
    redirectUri: 'https://tpp.example/after-sca',
    payment: null,
    debtorAccount: null,
    risk: {},
    vrp: null,
  };
}

function exceeded(response: ApiResponse) {
  assert.equal(response.status, 429, JSON.stringify(response.body));
  const body = response.body as { tppMessages: { category: string; code: string; text: string }[] };
  assert.equal(body.tppMessages.length, 1);
  assert.equal(body.tppMessages[0]!.category, 'ERROR');
  assert.equal(body.tppMessages[0]!.code, 'ACCESS_EXCEEDED');
  return body.tppMessages[0]!;
}

function obError(response: ApiResponse, status: number) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  return (response.body as ObEnvelope).Errors[0]!;
}

describe('account accesses counted against frequencyPerDay (bank API)', () => {
  let assent: TestAssent & { clock: MovableClock };
  let bank: TestResourceServer;
  let aisp: ConsentApiClient;
  let people: Awaited<ReturnType<typeof customerWithAccounts>>;

  before(async () => {
    assent = await startTestAssent({ BANK_TIME_ZONE }, { movableClock: true });
    // Made before the clock moves: the TPP's client certificate is valid from real now.
    aisp = await ConsentApiClient.create(assent, await createTestTpp(assent));
    bank = await TestResourceServer.create(assent, 'Accounts API');
    people = await customerWithAccounts(assent);
  });
  after(async () => {
    await assent?.stop();
  });

  async function authorised(frequencyPerDay: number | null, expiresInMs = 90 * DAY_MS): Promise<string> {
    const { consent } = await createConsent(assent.db, {
      clientId: aisp.tpp.clientId,
      draft: draft(frequencyPerDay, new Date(Date.now() + expiresInMs)),
    });
    await authoriseConsent(assent.db, postgresAccountDirectory(assent.db), {
      consentId: consent.id,
      clientId: aisp.tpp.clientId,
      customerId: people.customer.id,
      accountIds: [people.current.id],
      grantId: `grant-${crypto.randomUUID()}`,
    });
    return consent.id;
  }

  const access = (consentId: string, options: { body?: unknown; ip?: string; via?: TestResourceServer } = {}) =>
    (options.via ?? bank).call('POST', `/bank/consents/${consentId}/accesses`, {
      body: options.body ?? { resource: 'balances', accountId: people.current.id },
      headers: options.ip === undefined ? {} : { 'PSU-IP-Address': options.ip },
    });

  const ledger = (consentId: string) =>
    assent.db
      .selectFrom('consent_access')
      .select(['customer_present', 'resource', 'account_id', 'resource_server', 'at', sql<string>`bank_date::text`.as('day')])
      .where('consent_id', '=', consentId)
      .orderBy('at')
      .execute();

  let limited: string;
  /** One answer of each kind, checked against the OpenAPI document at the end. */
  const answers = new Map<number, ApiResponse>();
  const keep = (response: ApiResponse) => {
    if (!answers.has(response.status)) answers.set(response.status, response);
    return response;
  };

  test('64 concurrent accesses without the customer against a limit of 4: exactly 4 allowed, 60 refused, 4 rows', async () => {
    limited = await authorised(4);
    const responses = (await Promise.all(Array.from({ length: 64 }, () => access(limited)))).map(keep);
    const allowed = responses.filter((response) => response.status === 201);
    const refused = responses.filter((response) => response.status !== 201);
    assert.equal(allowed.length, 4);
    assert.equal(refused.length, 60);
    for (const response of refused) assert.match(exceeded(response).text, /allows 4 accesses a day without the customer present/);
    const counts = allowed.map((response) => (response.body as Recorded).Data.AccessesToday).toSorted();
    assert.deepEqual(counts, [1, 2, 3, 4], 'decided one at a time: each saw the ones before it');
    for (const response of allowed) {
      const { Data } = response.body as Recorded;
      assert.equal(Data.ConsentId, limited);
      assert.equal(Data.CustomerPresent, false);
      assert.equal(Data.FrequencyPerDay, 4);
      assert.equal(Data.Remaining, 4 - Data.AccessesToday);
      assert.equal(response.headers.get('cache-control'), 'no-store');
    }

    const rows = await ledger(limited);
    assert.equal(rows.length, 4, 'refusals write nothing');
    const today = tokyoDate(rows[0]!.at);
    for (const row of rows) {
      assert.equal(row.customer_present, false);
      assert.equal(row.resource, 'balances');
      assert.equal(row.account_id, people.current.id);
      assert.equal(row.resource_server, bank.clientId);
      assert.equal(row.day, today, "the bank's date in its time zone, from the database's clock");
    }
    const events = (await auditHistory(assent.db, 'consent', limited)).map((event) => event.event);
    assert.equal(events.filter((event) => event === 'access.recorded').length, 4);
    assert.deepEqual(await verifyAuditChain(assent.db, 'consent', limited), { valid: true, length: events.length });
  });

  test('two instances (separate pools) racing on one consent still allow exactly the limit', async () => {
    const consentId = await authorised(3);
    const other = await connectDatabase({ databaseUrl: assent.databaseUrl, dataDir: assent.dataDir });
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 48 }, (_, index) =>
          index % 2 === 0
            ? access(consentId).then((response) => (response.status === 201 ? 'allowed' : exceeded(response) && 'refused'))
            : recordConsentAccess(other, {
                consentId,
                resource: 'accounts',
                accountId: null,
                customerPresent: false,
                actor: { kind: 'resource_server', id: bank.clientId },
                bankTimeZone: BANK_TIME_ZONE,
              }).then((decision) => decision.outcome),
        ),
      );
      assert.equal(outcomes.filter((outcome) => outcome === 'allowed').length, 3);
      assert.equal((await ledger(consentId)).length, 3);
    } finally {
      await other.destroy();
    }
  });

  test('accesses racing a revocation: none is allowed after the revocation commits', async () => {
    const consentId = await authorised(null);
    const racing = Array.from({ length: 24 }, () => access(consentId));
    const revoked = revokeConsent(assent.db, { consentId, actor: { kind: 'customer', id: people.customer.id } });
    const responses = await Promise.all(racing);
    await revoked;
    for (const response of responses) {
      if (response.status === 201) continue;
      assert.equal(obError(response, 400).ErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus');
    }
    const rows = await ledger(consentId);
    assert.equal(rows.length, responses.filter((response) => response.status === 201).length);
    const events = (await auditHistory(assent.db, 'consent', consentId)).map((event) => event.event);
    assert.equal(events.filter((event) => event === 'access.recorded').length, rows.length);
    assert.ok(
      events.lastIndexOf('access.recorded') < events.indexOf('consent.revoked'),
      `every recorded access was decided before the revocation: ${events.join(', ')}`,
    );
    assert.equal(obError(await access(consentId), 400).ErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus');
  });

  test('with the customer present (PSU-IP-Address) an access is recorded, never counted and never refused', async () => {
    for (const ip of ['192.0.2.10', '2001:db8::7', '::ffff:198.51.100.4']) {
      const response = await access(limited, { ip, body: { resource: 'transactions' } });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      const { Data } = response.body as Recorded;
      assert.equal(Data.CustomerPresent, true);
      assert.equal(Data.AccessesToday, 4, 'the count of accesses without the customer is unchanged');
      assert.equal(Data.Remaining, 0);
    }
    exceeded(await access(limited));
    const rows = await ledger(limited);
    assert.equal(rows.length, 7);
    assert.equal(rows.filter((row) => row.customer_present).length, 3);
    assert.equal(rows.filter((row) => !row.customer_present).length, 4);
  });

  test('present and absent accesses racing on a fresh consent: every present one allowed, exactly the limit of the others', async () => {
    const consentId = await authorised(2);
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? access(consentId, { ip: '203.0.113.9' }) : access(consentId))),
    );
    const present = responses.filter((_, i) => i % 2 === 0);
    const absent = responses.filter((_, i) => i % 2 === 1);
    assert.equal(present.filter((response) => response.status === 201).length, 20);
    assert.equal(absent.filter((response) => response.status === 201).length, 2);
    for (const response of absent.filter((candidate) => candidate.status !== 201)) exceeded(response);
    const rows = await ledger(consentId);
    assert.equal(rows.length, 22);
  });

  test('a UK consent has no frequency: every access is allowed and reported without a limit', async () => {
    const created = await aisp.call('POST', ACCOUNT_ACCESS, {
      body: accountAccessRequest(),
      headers: { 'x-idempotency-key': crypto.randomUUID() },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    await authoriseConsent(assent.db, postgresAccountDirectory(assent.db), {
      consentId,
      clientId: aisp.tpp.clientId,
      customerId: people.customer.id,
      accountIds: [people.current.id],
      grantId: `grant-${crypto.randomUUID()}`,
    });
    const responses = await Promise.all(Array.from({ length: 8 }, () => access(consentId, { body: { resource: 'accounts' } })));
    for (const response of responses) {
      assert.equal(response.status, 201, JSON.stringify(response.body));
      const { Data } = response.body as Recorded;
      assert.equal(Data.FrequencyPerDay, null);
      assert.equal(Data.Remaining, null);
    }
    assert.deepEqual(
      responses.map((response) => (response.body as Recorded).Data.AccessesToday).toSorted((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.equal((await ledger(consentId)).length, 8);
  });

  test('only an Authorised account-access consent: awaiting, revoked and payment consents are refused, unknown ones not found', async () => {
    const { consent: awaiting } = await createConsent(assent.db, {
      clientId: aisp.tpp.clientId,
      draft: draft(4, new Date(Date.now() + DAY_MS)),
    });
    let error = obError(keep(await access(awaiting.id)), 400);
    assert.equal(error.ErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus');
    assert.match(error.Message, /AwaitingAuthorisation/);

    const revoked = await authorised(4);
    await revokeConsent(assent.db, { consentId: revoked, actor: { kind: 'customer', id: people.customer.id } });
    error = obError(await access(revoked), 400);
    assert.equal(error.ErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus');
    assert.match(error.Message, /Revoked/);
    error = obError(await access(revoked, { ip: '192.0.2.1' }), 400);
    assert.equal(error.ErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus', 'the customer being present does not revive a consent');

    const payment = await aisp.call('POST', DOMESTIC_PAYMENT, {
      body: domesticPaymentRequest(),
      headers: { 'x-idempotency-key': crypto.randomUUID() },
    });
    assert.equal(payment.status, 201, JSON.stringify(payment.body));
    const paymentId = (payment.body as { Data: { ConsentId: string } }).Data.ConsentId;
    error = obError(await access(paymentId), 400);
    assert.equal(error.ErrorCode, 'UK.OBIE.Resource.ConsentMismatch');

    assert.equal(obError(keep(await access(crypto.randomUUID())), 404).ErrorCode, 'UK.OBIE.Resource.NotFound');
    assert.equal(obError(await access('not-a-uuid'), 404).ErrorCode, 'UK.OBIE.Resource.NotFound');
    for (const id of [awaiting.id, revoked, paymentId]) assert.equal((await ledger(id)).length, 0);
  });

  test('hostile bodies and headers are refused with 400 and write nothing', async () => {
    const consentId = await authorised(4);
    const bodies: unknown[] = [
      'not json',
      '[]',
      'null',
      {},
      { resource: '' },
      { resource: 'balances ' },
      { resource: 'a'.repeat(65) },
      { resource: 'balances\u0000' },
      { resource: 42 },
      { resource: ['balances'] },
      { resource: 'balances', accountId: '' },
      { resource: 'balances', accountId: 'x'.repeat(129) },
      { resource: 'balances', accountId: 'two words' },
      { resource: 'balances', accountId: 7 },
      { resource: 'balances', extra: true },
      '{"resource": "balances", "__proto__": {"customerPresent": true}}',
      { resource: 'balances', customerPresent: true },
    ];
    for (const body of bodies) {
      const response = await access(consentId, { body });
      assert.equal(response.status, 400, `${JSON.stringify(body)}: ${response.status} ${JSON.stringify(response.body)}`);
    }
    for (const ip of ['not-an-ip', '192.0.2.1, 192.0.2.2', '999.1.1.1', '', ' ']) {
      const response = await access(consentId, { ip });
      assert.equal(response.status, 400, `PSU-IP-Address ${JSON.stringify(ip)}: ${response.status} ${JSON.stringify(response.body)}`);
      assert.equal((response.body as ObEnvelope).Errors[0]!.Path, 'PSU-IP-Address');
    }
    assert.equal((await ledger(consentId)).length, 0);
    assert.equal((await auditHistory(assent.db, 'consent', consentId)).filter((event) => event.event === 'access.recorded').length, 0);
  });

  test("a TPP's token is refused (403), even with every consent scope", async () => {
    const consentId = await authorised(4);
    const response = await aisp.call('POST', `/bank/consents/${consentId}/accesses`, { body: { resource: 'balances' } });
    assert.equal(keep(response).status, 403, JSON.stringify(response.body));
    assert.equal((await ledger(consentId)).length, 0);
  });

  test("the next bank day (Tokyo's midnight, not UTC's) starts a new count; an expired consent is refused", async () => {
    const shortLived = await authorised(4, 3_600_000);
    assert.equal((await access(shortLived)).status, 201);
    const first = (await ledger(limited))[0]!;
    const midnight = nextTokyoMidnight(Date.now());

    // One minute before the bank's midnight: still the same bank day, whatever UTC's date is.
    await assent.clock.advanceTo(new Date(midnight.getTime() - 60_000));
    // The resource server's token has expired by now: it asks for a new one, as it would.
    const later = await TestResourceServer.create(assent, 'Accounts API after a day');
    exceeded(await access(limited, { via: later }));
    const expired = obError(await access(shortLived, { via: later }), 400);
    assert.equal(expired.ErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus');
    assert.match(expired.Message, /Expired/);

    await assent.clock.advanceTo(new Date(midnight.getTime() + 1_000));
    const responses = await Promise.all(Array.from({ length: 16 }, () => access(limited, { via: later })));
    assert.equal(responses.filter((response) => response.status === 201).length, 4);
    for (const response of responses.filter((candidate) => candidate.status !== 201)) exceeded(response);

    const rows = await ledger(limited);
    const newDay = rows.filter((row) => row.day !== first.day);
    assert.equal(newDay.length, 4);
    for (const row of newDay) assert.equal(row.day, tokyoDate(midnight));
    assert.equal(rows.length, 11, '7 the first bank day, 4 the next');
  });

  test('every answer is the one the OpenAPI document describes', () => {
    const document = JSON.parse(JSON.stringify(openApiDocument(assent.issuer))) as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref: string } }> }> }>>;
      components: unknown;
    };
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ $id: 'openapi', components: document.components });
    const operation = document.paths['/bank/consents/{consentId}/accesses']?.post;
    assert.ok(operation, 'the document describes the route');
    assert.deepEqual([...answers.keys()].toSorted(), [201, 400, 403, 404, 429]);
    for (const [status, response] of answers) {
      const schema = operation.responses[String(status)]?.content?.['application/json']?.schema;
      assert.ok(schema, `status ${status} is declared with a JSON body`);
      const validate = ajv.getSchema(`openapi${schema.$ref}`);
      assert.ok(validate);
      assert.ok(validate(response.body), `${status}: ${ajv.errorsText(validate.errors)} ${JSON.stringify(response.body)}`);
    }
  });
});

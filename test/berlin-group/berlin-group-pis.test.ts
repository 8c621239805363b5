import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Eta } from 'eta';
import type { Agent } from 'undici';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { bankCalendar } from '../../src/berlin-group/bg-bank-time.ts';
import { authoriseConsent, getConsent, rejectConsent, revokeConsent } from '../../src/consents/consent-service.ts';
import { type BankAccount, openAccount, postgresAccountDirectory } from '../../src/customers/account-directory.ts';
import { paymentDetails } from '../../src/interactions/consent-details.ts';
import type { Psd2Role } from '../../src/protocol/routes.ts';
import { KyselyAdapter } from '../../src/store/adapter.ts';
import { wordingFor } from '../../src/wording/wording.ts';
import { type TestAssent, startTestAssent } from '../support/assent.ts';
import { createTestCustomer } from '../support/customers.ts';
import { TestResourceServer } from '../support/resource-server.ts';
import { assertDescribed, bgCaller, qwacAgent } from '../support/berlin-group.ts';

/**
 * Berlin Group payment initiation on a real Assent: real Postgres, real TLS, TPPs known only by a
 * QWAC-shaped client certificate from the dev CA. Both SEPA products through their life (RCVD, ACTC, ACSP;
 * CANC; RJCT), cancellation allowed and refused, another TPP's payment, the role check, hostile bodies, and
 * the bank API consuming a payment exactly once under a race. The customer's authorisation is made through
 * the consents service, as the consent page does once the OAuth2 SCA redirect has bound the payment.
 */

const REDIRECT = 'https://tpp.example/cb';
const PISP = 'PSDDE-BAFIN-424242';
const DEBTOR = 'DE89370400440532013000';
const CREDITOR = 'NL91ABNA0417164300';

interface BgAnswer {
  tppMessages: { code: string; path?: string }[];
  transactionStatus: string;
  paymentId: string;
  _links: Record<string, { href: string }>;
  [field: string]: unknown;
}

/** The test server's bank day (BANK_TIME_ZONE's default). */
const bankDate = (instant: Date) => bankCalendar('Europe/London').dateOf(instant);

const sent = {
  endToEndIdentification: 'E2E-2026-0001',
  debtorAccount: { iban: DEBTOR, currency: 'EUR' },
  instructedAmount: { currency: 'EUR', amount: '1234.56' },
  creditorAccount: { iban: CREDITOR },
  creditorAgent: 'ABNANL2A',
  creditorName: 'Merchant B.V.',
  remittanceInformationUnstructured: 'Invoice 2026-77',
};

describe('Berlin Group payment initiation over mTLS with a QWAC', () => {
  let assent: TestAssent;
  let base: string;
  let bank: TestResourceServer;
  let debtor: { customerId: string; account: BankAccount };
  const agents: Record<'pisp' | 'other' | 'aispOnly', Agent> = {} as never;

  const qwac = (organizationId: string, roles: Psd2Role[]) => qwacAgent(assent, organizationId, roles, 'Zahlfix GmbH');

  const call = bgCaller<BgAnswer>(() => base);

  const PRESENT = { 'TPP-Redirect-URI': REDIRECT, 'PSU-IP-Address': '192.0.2.1' };

  const initiate = (product: string, body: unknown = sent, agent = agents.pisp, headers: Record<string, string> = PRESENT) =>
    call(agent, 'POST', `/v1/payments/${product}`, { headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  const statusOf = async (product: string, paymentId: string) =>
    (await call(agents.pisp, 'GET', `/v1/payments/${product}/${paymentId}/status`)).body!.transactionStatus;

  const count = async (table: 'consent' | 'tpp') =>
    Number(
      (
        await assent.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('count'))
          .executeTakeFirstOrThrow()
      ).count,
    );

  const described = (method: string, template: string, answer: { status: number; body?: BgAnswer }) =>
    assertDescribed(assent.provider.issuer, method, template, answer);

  /** The customer authorises the payment from their EUR account, in a grant holding one access token. */
  const authorise = async (paymentId: string) => {
    const grantId = `grant-${randomUUID()}`;
    await new KyselyAdapter(assent.db, 'Grant').upsert(grantId, { jti: grantId, kind: 'Grant' }, 3600);
    await new KyselyAdapter(assent.db, 'AccessToken').upsert(`at-${grantId}`, { jti: `at-${grantId}`, grantId, kind: 'AccessToken' }, 3600);
    await authoriseConsent(assent.db, postgresAccountDirectory(assent.db), {
      consentId: paymentId,
      clientId: PISP,
      customerId: debtor.customerId,
      accountIds: [debtor.account.id],
      grantId,
    });
    return grantId;
  };

  before(async () => {
    assent = await startTestAssent();
    base = `https://localhost:${assent.port}`;
    agents.pisp = await qwac(PISP, ['PSP_PI']);
    agents.other = await qwac('PSDDE-BAFIN-535353', ['PSP_AI', 'PSP_PI']);
    agents.aispOnly = await qwac('PSDDE-BAFIN-646464', ['PSP_AI']);
    bank = await TestResourceServer.create(assent);
    const customer = await createTestCustomer(assent.db);
    const account = await openAccount(assent.db, {
      customerId: customer.id,
      schemeName: 'UK.OBIE.IBAN',
      identification: DEBTOR,
      name: 'Girokonto',
      currency: 'EUR',
      accountType: 'Personal',
      accountSubtype: 'CurrentAccount',
    });
    debtor = { customerId: customer.id, account };
  });
  after(async () => {
    await Promise.all(Object.values(agents).map((agent) => agent.close()));
    await assent?.stop();
  });

  test('a SEPA credit transfer: initiated (RCVD, scaOAuth), stored as a payment of the model, read; authorised (ACTC), not cancellable; consumed by the bank (ACSP)', async () => {
    const dated = { ...sent, requestedExecutionDate: bankDate(new Date(Date.now() + 7 * 86_400_000)) };
    const created = await initiate('sepa-credit-transfers', dated);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    described('post', '/v1/payments/{paymentProduct}', created);
    assert.equal(created.headers.get('x-request-id'), created.requestId);
    assert.equal(created.headers.get('aspsp-sca-approach'), 'REDIRECT');
    const { paymentId } = created.body!;
    assert.equal(created.headers.get('location'), `${assent.provider.issuer}/v1/payments/sepa-credit-transfers/${paymentId}`);
    // An authorisation is started with the payment (implicit start): its scaStatus is there to poll.
    const [authorisationId] = (
      await assent.db.selectFrom('consent_authorisation').select('id').where('consent_id', '=', paymentId).execute()
    ).map((row) => row.id);
    assert.ok(authorisationId);
    const scaStatusPath = `/v1/payments/sepa-credit-transfers/${paymentId}/authorisations/${authorisationId}`;
    assert.deepEqual(created.body, {
      transactionStatus: 'RCVD',
      paymentId,
      _links: {
        scaOAuth: { href: `${assent.provider.issuer}/.well-known/oauth-authorization-server` },
        scaStatus: { href: scaStatusPath },
        self: { href: `/v1/payments/sepa-credit-transfers/${paymentId}` },
        status: { href: `/v1/payments/sepa-credit-transfers/${paymentId}/status` },
      },
    });
    const received = await call(agents.pisp, 'GET', scaStatusPath);
    assert.deepEqual([received.status, received.body], [200, { scaStatus: 'received' }]);
    described('get', '/v1/payments/{paymentProduct}/{paymentId}/authorisations/{authorisationId}', received);

    // One model: a domestic_payment consent of the Berlin Group standard, its terms a SEPA scheme's.
    const stored = await assent.db.selectFrom('consent').selectAll().where('id', '=', paymentId).executeTakeFirstOrThrow();
    assert.deepEqual(
      {
        client: stored.client_id,
        type: stored.type,
        standard: stored.standard,
        scheme: stored.payment_scheme,
        amount: stored.instructed_amount,
        currency: stored.instructed_currency,
        creditor: stored.creditor_account,
        name: stored.creditor_name,
        agent: stored.creditor_agent,
        e2e: stored.end_to_end_identification,
        instruction: stored.instruction_identification,
        reference: stored.remittance_reference,
        date: stored.requested_execution_date,
        debtor: stored.debtor_account,
        redirect: stored.redirect_uri,
        recurring: stored.recurring,
      },
      {
        client: PISP,
        type: 'domestic_payment',
        standard: 'berlin_group',
        scheme: 'sepa_credit_transfer',
        amount: '1234.56',
        currency: 'EUR',
        creditor: { scheme: 'iban', identification: CREDITOR },
        name: 'Merchant B.V.',
        agent: 'ABNANL2A',
        e2e: 'E2E-2026-0001',
        instruction: null,
        reference: 'Invoice 2026-77',
        date: dated.requestedExecutionDate,
        debtor: { scheme: 'iban', identification: DEBTOR, currency: 'EUR' },
        redirect: REDIRECT,
        recurring: false,
      },
    );

    const read = await call(agents.pisp, 'GET', `/v1/payments/sepa-credit-transfers/${paymentId}`);
    assert.equal(read.status, 200);
    described('get', '/v1/payments/{paymentProduct}/{paymentId}', read);
    assert.equal(read.headers.get('x-request-id'), read.requestId);
    assert.deepEqual(read.body, { ...dated, transactionStatus: 'RCVD' });
    const status = await call(agents.pisp, 'GET', `/v1/payments/sepa-credit-transfers/${paymentId}/status`);
    assert.deepEqual([status.status, status.body], [200, { transactionStatus: 'RCVD' }]);
    described('get', '/v1/payments/{paymentProduct}/{paymentId}/status', status);

    await authorise(paymentId);
    assert.equal(await statusOf('sepa-credit-transfers', paymentId), 'ACTC');
    assert.deepEqual((await call(agents.pisp, 'GET', scaStatusPath)).body, { scaStatus: 'finalised' });
    const another = await call(agents.pisp, 'POST', `/v1/payments/sepa-credit-transfers/${paymentId}/authorisations`);
    assert.deepEqual([another.status, another.body!.tppMessages[0]?.code], [409, 'STATUS_INVALID']);
    described('post', '/v1/payments/{paymentProduct}/{paymentId}/authorisations', another);
    const refused = await call(agents.pisp, 'DELETE', `/v1/payments/sepa-credit-transfers/${paymentId}`);
    assert.equal(refused.status, 405);
    assert.equal(refused.body!.tppMessages[0]?.code, 'CANCELLATION_INVALID');
    described('delete', '/v1/payments/{paymentProduct}/{paymentId}', refused);
    assert.equal(await statusOf('sepa-credit-transfers', paymentId), 'ACTC', 'a refused cancellation changes nothing');

    // The bank API takes it as it takes a UK single payment, with what a SEPA payment carries.
    const consumed = await bank.call('POST', `/bank/payment-consents/${paymentId}/consume`);
    assert.equal(consumed.status, 200);
    const data = (consumed.body as { Data: Record<string, unknown> }).Data;
    assert.equal(data.Status, 'Consumed');
    assert.equal(data.PaymentScheme, 'sepa_credit_transfer');
    assert.equal(data.Standard, 'berlin_group');
    assert.deepEqual(data.AccountIds, [debtor.account.id]);
    assert.deepEqual(data.Initiation, {
      InstructionIdentification: null,
      EndToEndIdentification: 'E2E-2026-0001',
      InstructedAmount: { Amount: '1234.56', Currency: 'EUR' },
      CreditorAccount: { SchemeName: 'UK.OBIE.IBAN', Identification: CREDITOR, Name: 'Merchant B.V.' },
      RemittanceInformation: { Reference: 'Invoice 2026-77' },
      CreditorAgent: 'ABNANL2A',
      RequestedExecutionDate: dated.requestedExecutionDate,
    });
    assert.equal(await statusOf('sepa-credit-transfers', paymentId), 'ACSP');
    const ended = await call(agents.pisp, 'DELETE', `/v1/payments/sepa-credit-transfers/${paymentId}`);
    assert.equal(ended.body!.tppMessages[0]?.code, 'CANCELLATION_INVALID');
    const events = (await auditHistory(assent.db, 'consent', paymentId)).map((event) => event.event);
    assert.deepEqual(events, ['consent.created', 'consent.authorisation_started', 'consent.authorised', 'consent.consumed']);
  });

  test("a payment's authorisations: explicit start (startAuthorisation), started by POST, listed, read; the product, another TPP and a foreign id refused", async () => {
    const created = await initiate('instant-sepa-credit-transfers', sent, agents.pisp, {
      ...PRESENT,
      'TPP-Explicit-Authorisation-Preferred': 'true',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { paymentId, _links: links } = created.body!;
    const authorisations = `/v1/payments/instant-sepa-credit-transfers/${paymentId}/authorisations`;
    assert.deepEqual(links.startAuthorisation, { href: authorisations });
    assert.equal(links.scaStatus, undefined);
    const none = await call(agents.pisp, 'GET', authorisations);
    assert.deepEqual([none.status, none.body], [200, { authorisationIds: [] }]);
    described('get', '/v1/payments/{paymentProduct}/{paymentId}/authorisations', none);

    const started = await call(agents.pisp, 'POST', authorisations);
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal(started.headers.get('aspsp-sca-approach'), 'REDIRECT');
    described('post', '/v1/payments/{paymentProduct}/{paymentId}/authorisations', started);
    const authorisationId = String(started.body!.authorisationId);
    assert.deepEqual(started.body, {
      scaStatus: 'received',
      authorisationId,
      _links: {
        scaOAuth: { href: `${assent.provider.issuer}/.well-known/oauth-authorization-server` },
        scaStatus: { href: `${authorisations}/${authorisationId}` },
      },
    });
    assert.deepEqual((await call(agents.pisp, 'GET', authorisations)).body, { authorisationIds: [authorisationId] });
    const events = (await auditHistory(assent.db, 'consent', paymentId)).map((event) => event.event);
    assert.deepEqual(events, ['consent.created', 'consent.authorisation_started']);

    const foreign = await call(agents.pisp, 'GET', `${authorisations}/${randomUUID()}`);
    assert.deepEqual([foreign.status, foreign.body!.tppMessages[0]?.code], [404, 'RESOURCE_UNKNOWN']);
    const otherProduct = await call(agents.pisp, 'GET', `/v1/payments/sepa-credit-transfers/${paymentId}/authorisations`);
    assert.deepEqual([otherProduct.status, otherProduct.body!.tppMessages[0]?.code], [403, 'PRODUCT_INVALID']);
    const kept = await assent.db.selectFrom('consent_authorisation').select('id').where('consent_id', '=', paymentId).execute();
    const otherTpp = await call(agents.other, 'POST', authorisations);
    assert.deepEqual([otherTpp.status, otherTpp.body!.tppMessages[0]?.code], [403, 'RESOURCE_UNKNOWN']);
    const aispOnly = await call(agents.aispOnly, 'POST', authorisations);
    assert.deepEqual([aispOnly.status, aispOnly.body!.tppMessages[0]?.code], [401, 'ROLE_INVALID']);
    const unchanged = await assent.db.selectFrom('consent_authorisation').select('id').where('consent_id', '=', paymentId).execute();
    assert.deepEqual(unchanged, kept, 'refused starts write nothing');
  });

  test('an instant SEPA credit transfer: cancelled while awaiting the customer (204, CANC), once; then neither authorised nor consumed', async () => {
    const minimal = {
      debtorAccount: { iban: DEBTOR },
      instructedAmount: { currency: 'EUR', amount: '0.01' },
      creditorAccount: { iban: CREDITOR },
      creditorName: 'Kiosk',
    };
    const created = await initiate('instant-sepa-credit-transfers', minimal);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { paymentId } = created.body!;
    const { _links: links } = created.body!;
    assert.equal(links.self?.href, `/v1/payments/instant-sepa-credit-transfers/${paymentId}`);
    const read = await call(agents.pisp, 'GET', `/v1/payments/instant-sepa-credit-transfers/${paymentId}`);
    assert.deepEqual(read.body, { ...minimal, transactionStatus: 'RCVD' }, 'nothing is added that was not sent');
    assert.equal((await getConsent(assent.db, paymentId))?.payment?.scheme, 'sepa_instant_credit_transfer');

    const cancelled = await call(agents.pisp, 'DELETE', `/v1/payments/instant-sepa-credit-transfers/${paymentId}`);
    assert.equal(cancelled.status, 204);
    assert.equal(cancelled.headers.get('x-request-id'), cancelled.requestId);
    described('delete', '/v1/payments/{paymentProduct}/{paymentId}', cancelled);
    assert.equal(await statusOf('instant-sepa-credit-transfers', paymentId), 'CANC');
    const stored = await assent.db
      .selectFrom('consent')
      .select(['status', 'ended_by'])
      .where('id', '=', paymentId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(stored, { status: 'Rejected', ended_by: 'tpp' });

    const again = await call(agents.pisp, 'DELETE', `/v1/payments/instant-sepa-credit-transfers/${paymentId}`);
    assert.equal(again.status, 405);
    assert.equal(again.body!.tppMessages[0]?.code, 'CANCELLATION_INVALID');
    await assert.rejects(authorise(paymentId), /AwaitingAuthorisation|Rejected/);
    assert.equal((await bank.call('POST', `/bank/payment-consents/${paymentId}/consume`)).status, 400);
    assert.equal(await statusOf('instant-sepa-credit-transfers', paymentId), 'CANC');
    const events = (await auditHistory(assent.db, 'consent', paymentId)).map((event) => event.event);
    assert.deepEqual(events, ['consent.created', 'consent.authorisation_started', 'consent.rejected']);
  });

  test('a cancellation racing the customer’s authorisation: one of them wins, never both; an authorised payment is never revoked by DELETE', async () => {
    for (let round = 0; round < 6; round += 1) {
      const { paymentId } = (await initiate('sepa-credit-transfers')).body!;
      const [cancel, authorised] = await Promise.all([
        call(agents.pisp, 'DELETE', `/v1/payments/sepa-credit-transfers/${paymentId}`),
        authorise(paymentId).then(
          () => true,
          () => false,
        ),
      ]);
      const stored = await assent.db
        .selectFrom('consent')
        .select(['status', 'ended_by'])
        .where('id', '=', paymentId)
        .executeTakeFirstOrThrow();
      if (authorised) {
        assert.equal(cancel.status, 405, `round ${round}`);
        assert.equal(cancel.body!.tppMessages[0]?.code, 'CANCELLATION_INVALID');
        assert.deepEqual(stored, { status: 'Authorised', ended_by: null });
        assert.equal(await statusOf('sepa-credit-transfers', paymentId), 'ACTC');
      } else {
        assert.equal(cancel.status, 204, `round ${round}`);
        assert.deepEqual(stored, { status: 'Rejected', ended_by: 'tpp' });
        assert.equal(await statusOf('sepa-credit-transfers', paymentId), 'CANC');
      }
    }
  });

  test('ended by the customer: declined reads RJCT, revoked on the dashboard before the bank took it reads CANC', async () => {
    const declined = (await initiate('sepa-credit-transfers')).body!.paymentId;
    const revoked = (await initiate('sepa-credit-transfers')).body!.paymentId;
    await rejectConsent(assent.db, { consentId: declined, clientId: PISP, customerId: debtor.customerId });
    assert.equal(await statusOf('sepa-credit-transfers', declined), 'RJCT');
    await authorise(revoked);
    await revokeConsent(assent.db, { consentId: revoked, actor: { kind: 'customer', id: debtor.customerId } });
    assert.equal(await statusOf('sepa-credit-transfers', revoked), 'CANC');
    assert.equal((await bank.call('POST', `/bank/payment-consents/${revoked}/consume`)).status, 400, 'a revoked payment is never made');
  });

  test('the path: an unknown product is PRODUCT_UNKNOWN 404; the other product PRODUCT_INVALID 403; another TPP or an unknown id RESOURCE_UNKNOWN 403; GETs write nothing', async () => {
    const { paymentId } = (await initiate('sepa-credit-transfers')).body!;
    const first = await assent.db.selectFrom('consent').selectAll().where('id', '=', paymentId).executeTakeFirstOrThrow();
    const rows = await count('consent');

    for (const [method, path] of [
      ['POST', '/v1/payments/target-2-payments'],
      ['POST', '/v1/payments/pain.001-sepa-credit-transfers'],
      ['GET', `/v1/payments/cross-border-credit-transfers/${paymentId}`],
      ['GET', `/v1/payments/SEPA-CREDIT-TRANSFERS/${paymentId}/status`],
      ['DELETE', `/v1/payments/target-2-payments/${paymentId}`],
    ] as const) {
      const answer = await call(agents.pisp, method, path, method === 'POST' ? { headers: PRESENT, body: JSON.stringify(sent) } : {});
      assert.equal(answer.status, 404, `${method} ${path}`);
      assert.equal(answer.body!.tppMessages[0]?.code, 'PRODUCT_UNKNOWN', `${method} ${path}`);
    }
    for (const [method, path] of [
      ['GET', `/v1/payments/instant-sepa-credit-transfers/${paymentId}`],
      ['GET', `/v1/payments/instant-sepa-credit-transfers/${paymentId}/status`],
      ['DELETE', `/v1/payments/instant-sepa-credit-transfers/${paymentId}`],
    ] as const) {
      const answer = await call(agents.pisp, method, path);
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.equal(answer.body!.tppMessages[0]?.code, 'PRODUCT_INVALID', `${method} ${path}`);
    }
    const aisConsent = (
      await call(agents.other, 'POST', '/v1/consents', {
        headers: PRESENT,
        body: JSON.stringify({
          access: { accounts: [] },
          recurringIndicator: false,
          validUntil: '9999-12-31',
          frequencyPerDay: 1,
          combinedServiceIndicator: false,
        }),
      })
    ).body as unknown as { consentId: string };
    for (const [agent, method, path] of [
      [agents.other, 'GET', `/v1/payments/sepa-credit-transfers/${paymentId}`],
      [agents.other, 'GET', `/v1/payments/sepa-credit-transfers/${paymentId}/status`],
      [agents.other, 'DELETE', `/v1/payments/sepa-credit-transfers/${paymentId}`],
      [agents.other, 'GET', `/v1/payments/instant-sepa-credit-transfers/${paymentId}`],
      [agents.other, 'GET', `/v1/payments/sepa-credit-transfers/${aisConsent.consentId}`],
      [agents.pisp, 'GET', `/v1/payments/sepa-credit-transfers/${randomUUID()}`],
      [agents.pisp, 'DELETE', '/v1/payments/sepa-credit-transfers/not-a-uuid'],
    ] as const) {
      const answer = await call(agent, method, path);
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.equal(answer.body!.tppMessages[0]?.code, 'RESOURCE_UNKNOWN', `${method} ${path}`);
      assert.equal(answer.headers.get('x-request-id'), answer.requestId);
      described(method.toLowerCase(), `/v1/payments/{paymentProduct}/{paymentId}${path.endsWith('/status') ? '/status' : ''}`, answer);
    }
    for (const [method, path] of [
      ['PUT', `/v1/payments/sepa-credit-transfers/${paymentId}`],
      ['GET', '/v1/payments/sepa-credit-transfers'],
      ['POST', `/v1/payments/sepa-credit-transfers/${paymentId}/status`],
    ] as const) {
      const answer = await call(agents.pisp, method, path, method === 'GET' ? {} : { body: '{}' });
      assert.deepEqual([answer.status, answer.body!.tppMessages[0]?.code], [405, 'SERVICE_INVALID'], `${method} ${path}`);
    }
    assert.deepEqual(await assent.db.selectFrom('consent').selectAll().where('id', '=', paymentId).executeTakeFirstOrThrow(), first);
    assert.equal(await count('consent'), rows + 1, 'only the other TPP’s AIS consent was added');
    assert.equal(await statusOf('sepa-credit-transfers', paymentId), 'RCVD');
  });

  test('a certificate without PSP_PI: ROLE_INVALID 401 on every payment route, and no TPP row, no payment', async () => {
    const { paymentId } = (await initiate('sepa-credit-transfers')).body!;
    const [consents, tpps] = [await count('consent'), await count('tpp')];
    for (const [method, path] of [
      ['POST', '/v1/payments/sepa-credit-transfers'],
      ['GET', `/v1/payments/sepa-credit-transfers/${paymentId}`],
      ['GET', `/v1/payments/sepa-credit-transfers/${paymentId}/status`],
      ['DELETE', `/v1/payments/sepa-credit-transfers/${paymentId}`],
    ] as const) {
      const answer = await call(agents.aispOnly, method, path, method === 'POST' ? { headers: PRESENT, body: JSON.stringify(sent) } : {});
      assert.equal(answer.status, 401, `${method} ${path}`);
      assert.equal(answer.body!.tppMessages[0]?.code, 'ROLE_INVALID');
      assert.equal(answer.headers.get('x-request-id'), answer.requestId);
    }
    described('post', '/v1/payments/{paymentProduct}', await initiate('sepa-credit-transfers', sent, agents.aispOnly));
    assert.equal(await count('consent'), consents, 'no payment');
    assert.equal(await count('tpp'), tpps, 'the PSP_AI-only TPP leaves no row on its first contact');
    assert.equal(await statusOf('sepa-credit-transfers', paymentId), 'RCVD');
  });

  test('headers: X-Request-ID, TPP-Redirect-URI and PSU-IP-Address are required to initiate (FORMAT_ERROR 400); nothing written', async () => {
    const rows = await count('consent');
    const missingId = await call(agents.pisp, 'POST', '/v1/payments/sepa-credit-transfers', {
      requestId: null,
      headers: PRESENT,
      body: JSON.stringify(sent),
    });
    assert.equal(missingId.status, 400);
    assert.equal(missingId.body!.tppMessages[0]?.path, 'X-Request-ID');
    for (const [name, headers] of [
      ['TPP-Redirect-URI', { 'PSU-IP-Address': '192.0.2.1' }],
      ['PSU-IP-Address', { 'TPP-Redirect-URI': REDIRECT }],
      ['TPP-Redirect-URI', { ...PRESENT, 'TPP-Redirect-URI': 'http://tpp.example/cb' }],
      ['PSU-IP-Address', { ...PRESENT, 'PSU-IP-Address': '999.1.1.1' }],
    ] as const) {
      const answer = await initiate('sepa-credit-transfers', sent, agents.pisp, headers);
      assert.equal(answer.status, 400, name);
      assert.deepEqual([answer.body!.tppMessages[0]?.code, answer.body!.tppMessages[0]?.path], ['FORMAT_ERROR', name]);
      assert.equal(answer.headers.get('x-request-id'), answer.requestId);
      described('post', '/v1/payments/{paymentProduct}', answer);
    }
    assert.equal(await count('consent'), rows);
  });

  test('hostile bodies: 400 (FORMAT_ERROR, EXECUTION_DATE_INVALID) or 413, never a 5xx, nothing written', async () => {
    const rows = await count('consent');
    const today = bankDate(new Date());
    const cases: [string, string, string?][] = [
      ['sepa-credit-transfers', JSON.stringify({ ...sent, debtorAccount: { iban: 'DE89370400440532013001' } }), 'debtorAccount.iban'],
      ['sepa-credit-transfers', JSON.stringify({ ...sent, creditorAccount: { iban: 'NL91ABNA0417164301' } }), 'creditorAccount.iban'],
      ['sepa-credit-transfers', JSON.stringify({ ...sent, creditorAccount: { iban: 'NL91 ABNA 0417 1643 00' } }), 'creditorAccount.iban'],
      [
        'sepa-credit-transfers',
        JSON.stringify({ ...sent, instructedAmount: { currency: 'EUR', amount: '10.005' } }),
        'instructedAmount.amount',
      ],
      [
        'instant-sepa-credit-transfers',
        JSON.stringify({ ...sent, instructedAmount: { currency: 'USD', amount: '10.00' } }),
        'instructedAmount.currency',
      ],
      [
        'sepa-credit-transfers',
        JSON.stringify({ ...sent, instructedAmount: { currency: 'EUR', amount: 10.5 } }),
        'instructedAmount.amount',
      ],
      [
        'sepa-credit-transfers',
        JSON.stringify({ ...sent, instructedAmount: { currency: 'EUR', amount: '-1.00' } }),
        'instructedAmount.amount',
      ],
      [
        'sepa-credit-transfers',
        JSON.stringify({ ...sent, instructedAmount: { currency: 'EUR', amount: '0.00' } }),
        'instructedAmount.amount',
      ],
      [
        'sepa-credit-transfers',
        JSON.stringify({ ...sent, instructedAmount: { currency: 'EUR', amount: '1e3' } }),
        'instructedAmount.amount',
      ],
      [
        'sepa-credit-transfers',
        JSON.stringify({ ...sent, instructedAmount: { currency: 'EUR', amount: '1000000000.00' } }),
        'instructedAmount.amount',
      ],
      ['sepa-credit-transfers', JSON.stringify({ ...sent, creditorName: undefined }), 'creditorName'],
      ['sepa-credit-transfers', JSON.stringify({ ...sent, creditorName: 'x'.repeat(71) }), 'creditorName'],
      ['sepa-credit-transfers', JSON.stringify({ ...sent, creditorAgent: 'not a bic' }), 'creditorAgent'],
      ['sepa-credit-transfers', JSON.stringify({ ...sent, requestedExecutionDate: '2020-01-01' }), 'requestedExecutionDate'],
      ['sepa-credit-transfers', JSON.stringify({ ...sent, requestedExecutionDate: '2026-02-30' }), 'requestedExecutionDate'],
      ['instant-sepa-credit-transfers', JSON.stringify({ ...sent, requestedExecutionDate: '2099-01-01' }), 'requestedExecutionDate'],
      [
        'sepa-credit-transfers',
        JSON.stringify({ ...sent, remittanceInformationUnstructured: 'a\u0007b' }),
        'remittanceInformationUnstructured',
      ],
      ['sepa-credit-transfers', JSON.stringify({ ...sent, ultimateCreditor: 'Someone' }), 'ultimateCreditor'],
      ['sepa-credit-transfers', JSON.stringify({ ...sent, debtorAccount: { bban: '370400440532013000' } }), 'debtorAccount.bban'],
      ['sepa-credit-transfers', ''],
      ['sepa-credit-transfers', 'not json'],
      ['sepa-credit-transfers', '[]'],
      ['sepa-credit-transfers', 'null'],
      ['sepa-credit-transfers', '{"instructedAmount":'],
      ['sepa-credit-transfers', `{"instructedAmount":${'['.repeat(5000)}`],
      ['sepa-credit-transfers', `{"creditorName":"\\ud800"}`],
      ['sepa-credit-transfers', JSON.stringify({ ...sent, creditorName: 'Merchant\u0000' })],
      ['sepa-credit-transfers', JSON.stringify({ ...sent, __proto__: { admin: true }, constructor: { prototype: {} } })],
      ['sepa-credit-transfers', JSON.stringify({ ...sent, creditorName: 'x'.repeat(100_000) }), 'creditorName'],
      ['sepa-credit-transfers', 'x'.repeat(2_000_000)],
    ];
    for (const [product, body, path] of cases) {
      const answer = await initiate(product, body);
      assert.ok([400, 413].includes(answer.status), `${answer.status} for ${body.slice(0, 80)}`);
      if (answer.status === 413) {
        assert.equal(answer.body, undefined);
        continue;
      }
      const [message] = answer.body!.tppMessages;
      assert.ok(['FORMAT_ERROR', 'EXECUTION_DATE_INVALID'].includes(message!.code), `${message!.code} for ${body.slice(0, 80)}`);
      if (path !== undefined)
        assert.ok(
          answer.body!.tppMessages.some((each) => each.path === path),
          `${path}: ${JSON.stringify(answer.body)}`,
        );
      described('post', '/v1/payments/{paymentProduct}', answer);
    }
    assert.equal(
      (await initiate('sepa-credit-transfers', { ...sent, requestedExecutionDate: '2020-01-01' })).body!.tppMessages[0]?.code,
      'EXECUTION_DATE_INVALID',
    );
    const today0 = await initiate('instant-sepa-credit-transfers', { ...sent, requestedExecutionDate: today });
    assert.equal(today0.status, 201, 'an instant payment may name today');
    assert.equal(await count('consent'), rows + 1);
  });

  test('the bank consumes an authorised SEPA payment exactly once: 32 racers, one 200; audited once; its token dies; ACSP', async () => {
    const { paymentId } = (await initiate('instant-sepa-credit-transfers', { ...sent, endToEndIdentification: undefined })).body!;
    const grantId = await authorise(paymentId);
    assert.equal(await statusOf('instant-sepa-credit-transfers', paymentId), 'ACTC');
    const results = await Promise.all(Array.from({ length: 32 }, () => bank.call('POST', `/bank/payment-consents/${paymentId}/consume`)));
    const winners = results.filter((result) => result.status === 200);
    assert.equal(winners.length, 1);
    const data = (winners[0]!.body as { Data: { Status: string; PaymentScheme: string; Initiation: Record<string, unknown> } }).Data;
    assert.deepEqual([data.Status, data.PaymentScheme], ['Consumed', 'sepa_instant_credit_transfer']);
    assert.equal(data.Initiation.EndToEndIdentification, null, 'none was given');
    for (const loser of results.filter((result) => result.status !== 200)) {
      assert.equal(loser.status, 400);
      assert.equal((loser.body as { Errors: { ErrorCode: string }[] }).Errors[0]?.ErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus');
    }
    const consumed = (await auditHistory(assent.db, 'consent', paymentId)).filter((event) => event.event === 'consent.consumed');
    assert.equal(consumed.length, 1);
    assert.deepEqual(consumed[0]?.actor, { kind: 'resource_server', id: bank.clientId });
    const tokens = await assent.db
      .selectFrom('oidc_model')
      .select('id')
      .where((eb) => eb.or([eb('id', '=', grantId), eb('grant_id', '=', grantId)]))
      .execute();
    assert.deepEqual(tokens, [], 'the grant and its access token are gone');
    assert.equal(await statusOf('instant-sepa-credit-transfers', paymentId), 'ACSP');
    assert.equal((await bank.call('POST', `/bank/payment-consents/${paymentId}/consume`)).status, 400, 'and never again');
  });

  test('the customer’s words for a SEPA payment, in English and German: kind, EUR amount, IBAN, BIC, date', async () => {
    const { paymentId } = (await initiate('sepa-credit-transfers', { ...sent, requestedExecutionDate: '2099-12-24' })).body!;
    const consent = (await getConsent(assent.db, paymentId))!;
    const branding = {
      bankName: 'Testbank',
      logoUrl: undefined,
      colours: { primary: '#000', onPrimary: '#fff', accent: '#00f' },
      supportContact: undefined,
      supportUrl: undefined,
      timeZone: 'America/Los_Angeles',
    };
    assert.deepEqual(paymentDetails(wordingFor('en', branding), consent), {
      amount: '€1,234.56',
      currency: 'EUR (Euro)',
      payee: 'Merchant B.V.',
      payeeAccount: 'IBAN NL91 ABNA 0417 1643 00',
      reference: 'Invoice 2026-77',
      kind: 'SEPA credit transfer',
      payeeBank: 'BIC ABNANL2A',
      executionDate: '24 December 2099',
    });
    const w = wordingFor('de', branding);
    const german = paymentDetails(w, consent)!;
    assert.equal(german.amount, '1.234,56\u00a0€');
    assert.equal(german.kind, 'SEPA-Überweisung');
    assert.equal(german.payeeAccount, 'IBAN NL91 ABNA 0417 1643 00');
    assert.equal(german.executionDate, '24. Dezember 2099', 'the date named, whatever the bank’s time zone');
    // The partial the consent and one-time-code pages show a payment with.
    const html = new Eta({ views: 'views', autoEscape: true }).render('_payment', { payment: german, t: w.t });
    for (const shown of ['Zahlungsart', 'SEPA-Überweisung', 'Bank des Empfängers', 'BIC ABNANL2A', 'Ausführungsdatum', '24. Dezember 2099'])
      assert.ok(html.includes(shown), shown);
  });
});

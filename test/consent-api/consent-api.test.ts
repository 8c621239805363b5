import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { tlsAgent } from '../support/assent.ts';
import {
  ACCOUNT_ACCESS,
  accountAccessRequest,
  type ApiResponse,
  ConsentApiClient,
  DOMESTIC_PAYMENT,
  domesticPaymentRequest,
  FUNDS_CONFIRMATION,
  fundsConfirmationRequest,
  consentCount,
} from '../support/consent-api.ts';
import { createTestTpp } from '../support/tpp.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';

interface Envelope {
  Code: string;
  Id: string;
  Message: string;
  Errors: { ErrorCode: string; Message: string; Path?: string }[];
}
interface ConsentBody {
  Data: { ConsentId: string; Status: string; Permissions?: string[]; Initiation?: { InstructedAmount: { Amount: string } } };
  Links: { Self: string };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function assertObError(response: ApiResponse, status: number, code: string, path?: string) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  const envelope = response.body as Envelope;
  assert.match(envelope.Code, new RegExp(`^${status} `));
  assert.match(envelope.Id, UUID);
  const match = envelope.Errors.find((error) => error.ErrorCode === code && (path === undefined || error.Path === path));
  assert.ok(match, `expected ${code} at ${path ?? '(any path)'}, got ${JSON.stringify(envelope.Errors)}`);
}

/** An error response without its per-response Id, for comparing two answers. */
function strip(response: ApiResponse) {
  const { Id: _id, ...rest } = response.body as Envelope;
  return { status: response.status, rest };
}

describe('UK OB v3.1 consent API', () => {
  const countConsents = () => consentCount(assent.db);

  const assent = useAssent();
  const tppA = useConsentApi(assent, useTpp(assent));
  const tppB = useConsentApi(assent, useTpp(assent, { auth: 'tls_client_auth' }));

  test('an account-access consent is created, read back and audited; the interaction id is echoed', async () => {
    const interactionId = crypto.randomUUID();
    const created = await tppA.call('POST', ACCOUNT_ACCESS, {
      body: accountAccessRequest(),
      headers: { 'x-fapi-interaction-id': interactionId },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get('x-fapi-interaction-id'), interactionId);
    const body = created.body as ConsentBody;
    assert.equal(body.Data.Status, 'AwaitingAuthorisation');
    assert.match(body.Data.ConsentId, UUID);
    assert.equal(body.Links.Self, `${assent.issuer}${ACCOUNT_ACCESS}/${body.Data.ConsentId}`);

    const read = await tppA.call('GET', `${ACCOUNT_ACCESS}/${body.Data.ConsentId}`);
    assert.equal(read.status, 200);
    assert.match(read.headers.get('x-fapi-interaction-id') ?? '', UUID);
    assert.deepEqual((read.body as ConsentBody).Data, body.Data);
    const history = await auditHistory(assent.db, 'consent', body.Data.ConsentId);
    assert.deepEqual(
      history.map((event) => [event.event, event.actor.kind, event.actor.id]),
      [['consent.created', 'tpp', tppA.tpp.clientId]],
    );
  });

  test('an x-fapi-interaction-id that is not a UUID is refused', async () => {
    const response = await tppA.call('POST', ACCOUNT_ACCESS, {
      body: accountAccessRequest(),
      headers: { 'x-fapi-interaction-id': 'not a uuid' },
    });
    assertObError(response, 400, 'UK.OBIE.Header.Invalid', 'x-fapi-interaction-id');
  });

  const past = new Date(Date.now() - 60_000).toISOString();
  const invalid: [string, string, unknown, string, string][] = [
    [
      'unknown permission',
      ACCOUNT_ACCESS,
      accountAccessRequest({ Permissions: ['ReadAccountsBasic', 'ReadEverything'] }),
      'UK.OBIE.Field.Invalid',
      'Data.Permissions[1]',
    ],
    ['no permissions field', ACCOUNT_ACCESS, { Data: {}, Risk: {} }, 'UK.OBIE.Field.Missing', 'Data.Permissions'],
    [
      'neither ReadAccountsBasic nor ReadAccountsDetail',
      ACCOUNT_ACCESS,
      accountAccessRequest({ Permissions: ['ReadBalances'] }),
      'UK.OBIE.Field.Invalid',
      'Data.Permissions',
    ],
    [
      'transactions without credits or debits',
      ACCOUNT_ACCESS,
      accountAccessRequest({ Permissions: ['ReadAccountsBasic', 'ReadTransactionsBasic'] }),
      'UK.OBIE.Field.Invalid',
      'Data.Permissions',
    ],
    [
      'credits without transactions basic or detail',
      ACCOUNT_ACCESS,
      accountAccessRequest({ Permissions: ['ReadAccountsBasic', 'ReadTransactionsCredits'] }),
      'UK.OBIE.Field.Invalid',
      'Data.Permissions',
    ],
    [
      'expiry in the past',
      ACCOUNT_ACCESS,
      accountAccessRequest({ ExpirationDateTime: past }),
      'UK.OBIE.Field.InvalidDate',
      'Data.ExpirationDateTime',
    ],
    [
      'malformed expiry',
      ACCOUNT_ACCESS,
      accountAccessRequest({ ExpirationDateTime: 'next tuesday' }),
      'UK.OBIE.Field.InvalidDate',
      'Data.ExpirationDateTime',
    ],
    [
      'from after to',
      ACCOUNT_ACCESS,
      accountAccessRequest({ TransactionFromDateTime: '2026-02-01T00:00:00Z', TransactionToDateTime: '2026-01-01T00:00:00Z' }),
      'UK.OBIE.Field.InvalidDate',
      'Data.TransactionFromDateTime',
    ],
    [
      'zero amount',
      DOMESTIC_PAYMENT,
      domesticPaymentRequest({ InstructedAmount: { Amount: '0.00', Currency: 'GBP' } }),
      'UK.OBIE.Field.Invalid',
      'Data.Initiation.InstructedAmount.Amount',
    ],
    [
      'three decimals',
      DOMESTIC_PAYMENT,
      domesticPaymentRequest({ InstructedAmount: { Amount: '10.005', Currency: 'GBP' } }),
      'UK.OBIE.Field.Invalid',
      'Data.Initiation.InstructedAmount.Amount',
    ],
    [
      'negative amount',
      DOMESTIC_PAYMENT,
      domesticPaymentRequest({ InstructedAmount: { Amount: '-5.00', Currency: 'GBP' } }),
      'UK.OBIE.Field.Invalid',
      'Data.Initiation.InstructedAmount.Amount',
    ],
    [
      'amount as a JSON number',
      DOMESTIC_PAYMENT,
      domesticPaymentRequest({ InstructedAmount: { Amount: 10.5, Currency: 'GBP' } }),
      'UK.OBIE.Field.Invalid',
      'Data.Initiation.InstructedAmount.Amount',
    ],
    [
      'lowercase currency',
      DOMESTIC_PAYMENT,
      domesticPaymentRequest({ InstructedAmount: { Amount: '10.00', Currency: 'gbp' } }),
      'UK.OBIE.Field.Invalid',
      'Data.Initiation.InstructedAmount.Currency',
    ],
    [
      'not an ISO currency',
      DOMESTIC_PAYMENT,
      domesticPaymentRequest({ InstructedAmount: { Amount: '10.00', Currency: 'XQQ' } }),
      'UK.OBIE.Unsupported.Currency',
      'Data.Initiation.InstructedAmount.Currency',
    ],
    [
      'unknown account scheme',
      DOMESTIC_PAYMENT,
      domesticPaymentRequest({ CreditorAccount: { SchemeName: 'UK.OBIE.Paym', Identification: '07700900000', Name: 'Bob' } }),
      'UK.OBIE.Unsupported.Scheme',
      'Data.Initiation.CreditorAccount.SchemeName',
    ],
    [
      'malformed sort code and account number',
      DOMESTIC_PAYMENT,
      domesticPaymentRequest({ CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '12-34', Name: 'Bob' } }),
      'UK.OBIE.Unsupported.AccountIdentifier',
      'Data.Initiation.CreditorAccount.Identification',
    ],
    [
      'creditor without a name',
      DOMESTIC_PAYMENT,
      domesticPaymentRequest({ CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '08080021325698' } }),
      'UK.OBIE.Field.Missing',
      'Data.Initiation.CreditorAccount.Name',
    ],
    ['payment without Risk', DOMESTIC_PAYMENT, { Data: domesticPaymentRequest().Data }, 'UK.OBIE.Field.Missing', 'Risk'],
    ['funds confirmation without a debtor account', FUNDS_CONFIRMATION, { Data: {} }, 'UK.OBIE.Field.Missing', 'Data.DebtorAccount'],
    [
      'funds confirmation expiring in the past',
      FUNDS_CONFIRMATION,
      fundsConfirmationRequest({ ExpirationDateTime: past }),
      'UK.OBIE.Field.InvalidDate',
      'Data.ExpirationDateTime',
    ],
  ];
  for (const [name, path, body, code, field] of invalid) {
    test(`refused with ${code}: ${name}, and nothing is stored`, async () => {
      const countBefore = await countConsents();
      const response = await tppA.call('POST', path, { body, headers: { 'x-idempotency-key': crypto.randomUUID() } });
      assertObError(response, 400, code, field);
      assert.equal(await countConsents(), countBefore);
    });
  }

  test('a body that is not JSON is refused with UK.OBIE.Resource.InvalidFormat', async () => {
    assertObError(
      await tppA.call('POST', ACCOUNT_ACCESS, { body: '{"Data":', headers: { 'content-type': 'application/json' } }),
      400,
      'UK.OBIE.Resource.InvalidFormat',
    );
  });

  test('a body refused by the JSON reader reads the same in the envelope as ever', async () => {
    const untyped = await tppA.call('POST', ACCOUNT_ACCESS, { body: '{}', headers: { 'content-type': 'text/plain' } });
    assert.deepEqual(strip(untyped), {
      status: 415,
      rest: {
        Code: '415 UnsupportedMediaType',
        Message: 'Content-Type must be application/json',
        Errors: [{ ErrorCode: 'UK.OBIE.Header.Invalid', Message: 'Content-Type must be application/json', Path: 'Content-Type' }],
      },
    });
    const malformed = await tppA.call('POST', ACCOUNT_ACCESS, { body: '{"Data":', headers: { 'content-type': 'application/json' } });
    assert.deepEqual(strip(malformed), {
      status: 400,
      rest: {
        Code: '400 BadRequest',
        Message: 'the request body is not valid JSON',
        Errors: [{ ErrorCode: 'UK.OBIE.Resource.InvalidFormat', Message: 'the request body is not valid JSON' }],
      },
    });
  });

  test('amounts keep their exact decimal value', async () => {
    for (const [sent, stored] of [
      ['165.88', '165.88'],
      ['0.1', '0.10'],
      ['9999999999999.99', '9999999999999.99'],
    ]) {
      const response = await tppA.call('POST', DOMESTIC_PAYMENT, {
        body: domesticPaymentRequest({ InstructedAmount: { Amount: sent, Currency: 'GBP' } }),
        headers: { 'x-idempotency-key': crypto.randomUUID() },
      });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.equal((response.body as ConsentBody).Data.Initiation?.InstructedAmount.Amount, stored);
    }
  });

  test('payment consents need x-idempotency-key; the same key and body return the same consent, another body is refused', async () => {
    assertObError(
      await tppA.call('POST', DOMESTIC_PAYMENT, { body: domesticPaymentRequest() }),
      400,
      'UK.OBIE.Header.Missing',
      'x-idempotency-key',
    );
    assertObError(
      await tppA.call('POST', DOMESTIC_PAYMENT, { body: domesticPaymentRequest(), headers: { 'x-idempotency-key': 'x'.repeat(41) } }),
      400,
      'UK.OBIE.Header.Invalid',
      'x-idempotency-key',
    );
    const key = crypto.randomUUID();
    const countBefore = await countConsents();
    const [first, second] = await Promise.all([
      tppA.call('POST', DOMESTIC_PAYMENT, { body: domesticPaymentRequest(), headers: { 'x-idempotency-key': key } }),
      tppA.call('POST', DOMESTIC_PAYMENT, { body: domesticPaymentRequest(), headers: { 'x-idempotency-key': key } }),
    ]);
    assert.equal(first.status, 201);
    assert.equal(second.status, 201);
    assert.equal((first.body as ConsentBody).Data.ConsentId, (second.body as ConsentBody).Data.ConsentId);
    assert.equal(await countConsents(), countBefore + 1);
    const different = await tppA.call('POST', DOMESTIC_PAYMENT, {
      body: domesticPaymentRequest({ InstructedAmount: { Amount: '999.00', Currency: 'GBP' } }),
      headers: { 'x-idempotency-key': key },
    });
    assertObError(different, 400, 'UK.OBIE.Header.Invalid', 'x-idempotency-key');
    // Another TPP's use of the same key is its own.
    const other = await tppB.call('POST', DOMESTIC_PAYMENT, { body: domesticPaymentRequest(), headers: { 'x-idempotency-key': key } });
    assert.equal(other.status, 201);
    assert.notEqual((other.body as ConsentBody).Data.ConsentId, (first.body as ConsentBody).Data.ConsentId);
  });

  test('BOLA: another TPP reading or deleting a consent gets exactly what an unknown id gets', async () => {
    const created = await tppA.call('POST', FUNDS_CONFIRMATION, { body: fundsConfirmationRequest() });
    const id = (created.body as ConsentBody).Data.ConsentId;
    const foreign = await tppB.call('GET', `${FUNDS_CONFIRMATION}/${id}`);
    const unknown = await tppB.call('GET', `${FUNDS_CONFIRMATION}/${crypto.randomUUID()}`);
    const malformed = await tppB.call('GET', `${FUNDS_CONFIRMATION}/not-an-id`);
    assertObError(foreign, 404, 'UK.OBIE.Resource.NotFound');
    assert.deepEqual(strip(foreign), strip(unknown));
    assert.deepEqual(strip(foreign), strip(malformed));
    assert.deepEqual(strip(await tppB.call('DELETE', `${FUNDS_CONFIRMATION}/${id}`)), strip(unknown));
    // The consent is untouched, and reading it through another resource type is also "unknown".
    assert.equal(((await tppA.call('GET', `${FUNDS_CONFIRMATION}/${id}`)).body as ConsentBody).Data.Status, 'AwaitingAuthorisation');
    assertObError(await tppA.call('GET', `${ACCOUNT_ACCESS}/${id}`), 404, 'UK.OBIE.Resource.NotFound');
  });

  test('DELETE withdraws a consent awaiting authorisation; a second DELETE is an illegal transition; payments cannot be deleted', async () => {
    const id = ((await tppA.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() })).body as ConsentBody).Data.ConsentId;
    const deleted = await tppA.call('DELETE', `${ACCOUNT_ACCESS}/${id}`);
    assert.equal(deleted.status, 204);
    assert.equal(((await tppA.call('GET', `${ACCOUNT_ACCESS}/${id}`)).body as ConsentBody).Data.Status, 'Rejected');
    assertObError(await tppA.call('DELETE', `${ACCOUNT_ACCESS}/${id}`), 400, 'UK.OBIE.Resource.InvalidConsentStatus');
    const payment = (
      (await tppA.call('POST', DOMESTIC_PAYMENT, { body: domesticPaymentRequest(), headers: { 'x-idempotency-key': crypto.randomUUID() } }))
        .body as ConsentBody
    ).Data.ConsentId;
    assertObError(await tppA.call('DELETE', `${DOMESTIC_PAYMENT}/${payment}`), 405, 'UK.OBIE.Field.Unexpected');
  });

  test('the token must be present, live, presented with its proof of possession, and carry the scope', async () => {
    assertObError(await tppA.raw('GET', `${ACCOUNT_ACCESS}/${crypto.randomUUID()}`, {}), 401, 'UK.OBIE.Header.Missing', 'Authorization');
    assertObError(
      await tppA.raw('GET', `${ACCOUNT_ACCESS}/${crypto.randomUUID()}`, { authorization: 'DPoP not-a-token' }),
      401,
      'UK.OBIE.Header.Invalid',
      'Authorization',
    );
    // DPoP-bound: no proof, the Bearer scheme, or a proof made with another key all fail.
    assertObError(
      await tppA.raw('GET', `${ACCOUNT_ACCESS}/${crypto.randomUUID()}`, { authorization: `DPoP ${tppA.accessToken}` }),
      401,
      'UK.OBIE.Header.Missing',
      'DPoP',
    );
    assertObError(
      await tppA.raw('GET', `${ACCOUNT_ACCESS}/${crypto.randomUUID()}`, { authorization: `Bearer ${tppA.accessToken}` }),
      401,
      'UK.OBIE.Header.Invalid',
      'Authorization',
    );
    const otherKey = oidc.getDPoPHandle(tppA.tpp.config, await oidc.randomDPoPKeyPair('PS256'));
    const stolen = await tppA.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest(), dpop: otherKey });
    assertObError(stolen, 401, 'UK.OBIE.Header.Invalid', 'DPoP');
    assert.match(stolen.headers.get('www-authenticate') ?? '', /^DPoP error="invalid_dpop_proof"/);

    // Certificate-bound: the same token over a connection without the TPP's certificate fails.
    const withoutCertificate = await fetch(new URL(`${ACCOUNT_ACCESS}/${crypto.randomUUID()}`, assent.issuer), {
      headers: { authorization: `Bearer ${tppB.accessToken}` },
      dispatcher: tlsAgent(assent.ca.certPem),
    });
    assert.equal(withoutCertificate.status, 401);

    // A token for accounts only cannot create payment consents.
    const accountsOnly = await ConsentApiClient.create(assent, tppA.tpp, 'accounts');
    assertObError(
      await accountsOnly.call('POST', DOMESTIC_PAYMENT, {
        body: domesticPaymentRequest(),
        headers: { 'x-idempotency-key': crypto.randomUUID() },
      }),
      403,
      'UK.OBIE.Header.Invalid',
      'Authorization',
    );
  });

  test('a TPP whose registration lacks a scope cannot get a token for that consent type', async () => {
    const aisp = await createTestTpp(assent, { metadata: { scope: 'openid accounts' } });
    await assert.rejects(
      ConsentApiClient.create(assent, aisp, 'payments'),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_scope',
    );
    const client = await ConsentApiClient.create(assent, aisp, 'accounts');
    assert.equal((await client.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() })).status, 201);
  });
});

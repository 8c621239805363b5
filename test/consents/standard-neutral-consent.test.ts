import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { down, up } from '../../migrations/2026_12_07_2000_standard_neutral_consent.ts';
import { authoriseConsent, getConsent, revokeConsent, withdrawConsentForClient } from '../../src/consents/consent-service.ts';
import { postgresAccountDirectory } from '../../src/customers/account-directory.ts';
import { READ_SCOPES } from '../../src/protocol/consent-types.ts';
import { fromObAccount, toObAccount } from '../../src/uk-ob-v3/account-references.ts';
import { OB_PERMISSIONS, permissionOf, readScopeOf } from '../../src/uk-ob-v3/permissions.ts';
import { type TestAssent, startTestAssent } from '../support/assent.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';
import {
  ACCOUNT_ACCESS,
  accountAccessRequest,
  ConsentApiClient,
  DOMESTIC_PAYMENT,
  DOMESTIC_VRP,
  domesticPaymentRequest,
  domesticVrpRequest,
  FUNDS_CONFIRMATION,
  fundsConfirmationRequest,
} from '../support/consent-api.ts';
import { customerWithAccounts } from '../support/granted-consents.ts';
import { TestResourceServer } from '../support/resource-server.ts';
import { createTestTpp, type TestTpp } from '../support/tpp.ts';

/**
 * Issue 28: the consent model is standard-neutral and UK OB v3.1 a mapping in and out of it. The
 * migration carries every stored consent over unchanged in meaning: consents in the old shape answer
 * through the UK API byte for byte as the old code answered them.
 */

const dataOf = (body: unknown) => (body as { Data: Record<string, unknown> }).Data;
const idempotent = () => ({ 'x-idempotency-key': crypto.randomUUID() });
/** The bank API's body without the model's own fields, which the migration adds. */
const withoutNeutral = (body: unknown) => {
  const { Standard: _standard, Access: _access, EndedBy: _endedBy, PaymentScheme: _scheme, ...data } = dataOf(body);
  return { ...(body as object), Data: data };
};

describe('UK OB v3.1 is a mapping of the model', () => {
  test('the 21 permissions map one-to-one onto the 21 read scopes, both ways', () => {
    assert.equal(OB_PERMISSIONS.length, READ_SCOPES.length);
    assert.deepEqual(new Set(OB_PERMISSIONS.map(readScopeOf)), new Set(READ_SCOPES));
    for (const permission of OB_PERMISSIONS) assert.equal(permissionOf(readScopeOf(permission)), permission);
  });

  test('account references come back with the SchemeName sent, in the key order the API always answered with', () => {
    const sent = {
      SchemeName: 'UK.OBIE.IBAN',
      Identification: 'GB29NWBK60161331926819',
      Name: 'ACME',
      SecondaryIdentification: 'ROLL-1',
    } as const;
    const model = fromObAccount(sent);
    assert.deepEqual(model, { scheme: 'iban', identification: sent.Identification, name: 'ACME', secondaryIdentification: 'ROLL-1' });
    assert.equal(
      JSON.stringify(toObAccount(model)),
      '{"Name":"ACME","SchemeName":"UK.OBIE.IBAN","Identification":"GB29NWBK60161331926819","SecondaryIdentification":"ROLL-1"}',
    );
    assert.deepEqual(fromObAccount({ SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40400411111111' }), {
      scheme: 'sort_code_account',
      identification: '40400411111111',
    });
  });
});

describe('migration 2026_12_07_2000: stored consents carried over unchanged in meaning', () => {
  let assent: TestAssent;
  let tpp: TestTpp;
  let api: ConsentApiClient;
  let rs: TestResourceServer;

  before(async () => {
    assent = await startTestAssent();
    tpp = await createTestTpp(assent);
    api = await ConsentApiClient.create(assent, tpp);
    rs = await TestResourceServer.create(assent);
  });
  after(async () => {
    await assent?.stop();
  });

  test('consents written by the UK API, carried back to the old shape and forward again, answer byte for byte as before', async () => {
    const created = [
      await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() }),
      await api.call('POST', DOMESTIC_PAYMENT, {
        body: domesticPaymentRequest({
          DebtorAccount: {
            SchemeName: 'UK.OBIE.IBAN',
            Identification: 'GB29NWBK60161331926819',
            Name: 'Main',
            SecondaryIdentification: 'R1',
          },
          CreditorAccount: {
            SchemeName: 'UK.OBIE.SortCodeAccountNumber',
            Identification: '08080021325698',
            Name: 'ACME Inc',
            SecondaryIdentification: 'ROLL-42',
          },
        }),
        headers: idempotent(),
      }),
      await api.call('POST', FUNDS_CONFIRMATION, { body: fundsConfirmationRequest() }),
      await api.call('POST', DOMESTIC_VRP, {
        body: domesticVrpRequest({}, { DebtorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40400411111111' } }),
        headers: idempotent(),
      }),
      await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest({ Permissions: ['ReadAccountsBasic'] }) }),
    ];
    for (const response of created) assert.equal(response.status, 201, JSON.stringify(response.body));
    const ids = created.map((response) => dataOf(response.body).ConsentId as string);
    const paths = [ACCOUNT_ACCESS, DOMESTIC_PAYMENT, FUNDS_CONFIRMATION, DOMESTIC_VRP, ACCOUNT_ACCESS].map(
      (path, i) => `${path}/${ids[i]}`,
    );
    // The last one is withdrawn by its TPP: Rejected, ended by the TPP.
    await withdrawConsentForClient(assent.db, tpp.clientId, ids[4]!);
    assert.equal((await getConsent(assent.db, ids[4]!))?.endedBy, 'tpp');

    const read = async () => Promise.all(paths.map(async (path) => JSON.stringify((await api.call('GET', path)).body)));
    const readBank = async () => Promise.all(ids.map(async (id) => withoutNeutral((await rs.call('GET', `/bank/consents/${id}`)).body)));
    const answered = await read();
    const bankBefore = await readBank();
    // POST answered what GET answers.
    assert.equal(JSON.stringify(created[1]!.body), answered[1]);

    await down(assent.db);
    const old = await sql<{
      id: string;
      permissions: string[];
      creditor_account: unknown;
      debtor_account: unknown;
    }>`select id, permissions, creditor_account, debtor_account from consent where id in (${sql.join(ids)})`.execute(assent.db);
    const byId = new Map(old.rows.map((row) => [row.id, row]));
    assert.deepEqual(byId.get(ids[0]!)?.permissions, accountAccessRequest().Data.Permissions, 'the old permissions, in order');
    assert.deepEqual(byId.get(ids[1]!)?.creditor_account, {
      SchemeName: 'UK.OBIE.SortCodeAccountNumber',
      Identification: '08080021325698',
      Name: 'ACME Inc',
      SecondaryIdentification: 'ROLL-42',
    });
    assert.deepEqual(byId.get(ids[1]!)?.debtor_account, {
      SchemeName: 'UK.OBIE.IBAN',
      Identification: 'GB29NWBK60161331926819',
      Name: 'Main',
      SecondaryIdentification: 'R1',
    });
    await up(assent.db);

    assert.deepEqual(await read(), answered, 'the UK API answers byte for byte as before');
    assert.deepEqual(await readBank(), bankBefore, "the bank API's UK fields are as before");
    assert.equal((await getConsent(assent.db, ids[4]!))?.endedBy, 'tpp', 'who ended it is carried from the audit trail');
  });

  test('rows in the old shape, as the old code wrote them, read back through the UK API exactly as the old code answered', async () => {
    await down(assent.db);
    const created = new Date('2026-12-01T09:30:00.000Z');
    const expires = new Date('2027-03-01T09:30:00.000Z');
    const insert = async (row: Record<string, unknown>) => {
      const columns = Object.keys(row);
      const { rows } = await sql<{ id: string }>`insert into consent (${sql.join(columns.map((column) => sql.ref(column)))})
        values (${sql.join(columns.map((column) => row[column]))}) returning id`.execute(assent.db);
      return rows[0]!.id;
    };
    const common = { client_id: tpp.clientId, created_at: created, status_updated_at: created, updated_at: created };
    const accountAccess = await insert({
      ...common,
      type: 'account_access',
      status: 'AwaitingAuthorisation',
      permissions: JSON.stringify(['ReadTransactionsDebits', 'ReadAccountsBasic', 'ReadTransactionsBasic', 'ReadPAN', 'ReadPartyPSU']),
      expires_at: expires,
      transaction_from: created,
      risk: JSON.stringify({ PaymentContextCode: 'EcommerceGoods' }),
    });
    const payment = await insert({
      ...common,
      type: 'domestic_payment',
      status: 'AwaitingAuthorisation',
      instructed_amount: '12.30',
      instructed_currency: 'GBP',
      creditor_account: JSON.stringify({ SchemeName: 'UK.OBIE.IBAN', Identification: 'GB29NWBK60161331926819', Name: 'Payee' }),
      debtor_account: JSON.stringify({ SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40400411111111' }),
      instruction_identification: 'I-1',
      end_to_end_identification: 'E-1',
      remittance_reference: 'REF',
      risk: JSON.stringify({}),
    });
    const reused = await insert({
      ...common,
      type: 'funds_confirmation',
      status: 'Revoked',
      status_reason: 'authorization code reused',
      debtor_account: JSON.stringify({ SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40400411111111', Name: 'Everyday' }),
    });
    await up(assent.db);

    const at = created.toISOString();
    const links = (path: string, id: string) => ({ Links: { Self: `${assent.issuer}${path}/${id}` }, Meta: { TotalPages: 1 } });
    const expected = {
      [`${ACCOUNT_ACCESS}/${accountAccess}`]: {
        Data: {
          ConsentId: accountAccess,
          CreationDateTime: at,
          Status: 'AwaitingAuthorisation',
          StatusUpdateDateTime: at,
          Permissions: ['ReadTransactionsDebits', 'ReadAccountsBasic', 'ReadTransactionsBasic', 'ReadPAN', 'ReadPartyPSU'],
          ExpirationDateTime: expires.toISOString(),
          TransactionFromDateTime: at,
        },
        Risk: { PaymentContextCode: 'EcommerceGoods' },
        ...links(ACCOUNT_ACCESS, accountAccess),
      },
      [`${DOMESTIC_PAYMENT}/${payment}`]: {
        Data: {
          ConsentId: payment,
          CreationDateTime: at,
          Status: 'AwaitingAuthorisation',
          StatusUpdateDateTime: at,
          Initiation: {
            InstructionIdentification: 'I-1',
            EndToEndIdentification: 'E-1',
            InstructedAmount: { Amount: '12.30', Currency: 'GBP' },
            // Key order as Postgres' jsonb handed the stored reference back to the old code.
            CreditorAccount: { Name: 'Payee', SchemeName: 'UK.OBIE.IBAN', Identification: 'GB29NWBK60161331926819' },
            DebtorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40400411111111' },
            RemittanceInformation: { Reference: 'REF' },
          },
        },
        Risk: {},
        ...links(DOMESTIC_PAYMENT, payment),
      },
      [`${FUNDS_CONFIRMATION}/${reused}`]: {
        Data: {
          ConsentId: reused,
          CreationDateTime: at,
          Status: 'Revoked',
          StatusUpdateDateTime: at,
          StatusReason: [{ StatusReasonDescription: 'authorization code reused' }],
          DebtorAccount: { Name: 'Everyday', SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40400411111111' },
        },
        ...links(FUNDS_CONFIRMATION, reused),
      },
    };
    for (const [path, body] of Object.entries(expected)) {
      const response = await api.call('GET', path);
      assert.equal(response.status, 200);
      assert.equal(JSON.stringify(response.body), JSON.stringify(body), path);
    }

    const model = await getConsent(assent.db, accountAccess);
    assert.equal(model?.standard, 'uk_ob_v3');
    assert.equal(model?.recurring, true);
    assert.deepEqual(model?.reads, [
      { scope: 'transactions.debits', accounts: null },
      { scope: 'accounts.basic', accounts: null },
      { scope: 'transactions.basic', accounts: null },
      { scope: 'pan', accounts: null },
      { scope: 'party_psu', accounts: null },
    ]);
    const paymentModel = await getConsent(assent.db, payment);
    assert.deepEqual(paymentModel?.payment?.creditorAccount, { scheme: 'iban', identification: 'GB29NWBK60161331926819' });
    assert.equal(paymentModel?.payment?.creditorName, 'Payee');
    assert.equal(paymentModel?.payment?.scheme, 'uk_domestic');
    assert.equal(paymentModel?.recurring, false);
    assert.equal((await getConsent(assent.db, reused))?.endedBy, 'bank', 'a consent the system ended: by the bank');
  });

  test('a consent that cannot be carried over fails the migration and changes nothing', async () => {
    await down(assent.db);
    await sql`insert into consent (client_id, type, status, permissions) values (${tpp.clientId}, 'account_access', 'AwaitingAuthorisation', ${JSON.stringify(['ReadAccountsBasic', 'ReadSomethingElse'])})`.execute(
      assent.db,
    );
    await assert.rejects(
      assent.db.transaction().execute((trx) => up(trx)),
      /cannot carry over permissions: ReadSomethingElse/,
    );
    const columns = await sql<{
      column_name: string;
    }>`select column_name from information_schema.columns where table_name = 'consent'`.execute(assent.db);
    assert.ok(
      columns.rows.some((row) => row.column_name === 'permissions'),
      'still the old shape',
    );
    await sql`delete from consent where permissions ? 'ReadSomethingElse'`.execute(assent.db);
    await up(assent.db);
  });
});

/**
 * On a server of its own: the migration tests above take the consent table down to the old shape and back
 * while their server runs, which leaves its connections' prepared statements planned for columns that were
 * dropped and made again; a statement of those may fail once on them.
 */
describe('who ended a consent', () => {
  const assent = useAssent();
  const tpp = useTpp(assent);
  const api = useConsentApi(assent, tpp);

  test('who ended a consent is recorded as it ends: the customer, the TPP, the bank; a live one names no one', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const directory = postgresAccountDirectory(assent.db);
    const authorised = async () => {
      const consentId = dataOf((await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() })).body).ConsentId as string;
      const base = { consentId, clientId: tpp.clientId, customerId: customer.id, accountIds: [current.id] };
      return (await authoriseConsent(assent.db, directory, { ...base, grantId: `grant-${consentId}` })).id;
    };
    const [byCustomer, byTpp, byOperator, live] = [await authorised(), await authorised(), await authorised(), await authorised()];
    await revokeConsent(assent.db, { consentId: byCustomer, actor: { kind: 'customer', id: customer.id } });
    await withdrawConsentForClient(assent.db, tpp.clientId, byTpp);
    await revokeConsent(assent.db, { consentId: byOperator, actor: { kind: 'operator', id: 'op' }, reason: 'incident' });
    const endedBy = async (id: string) => (await getConsent(assent.db, id))?.endedBy;
    assert.deepEqual(
      [await endedBy(byCustomer), await endedBy(byTpp), await endedBy(byOperator), await endedBy(live)],
      ['customer', 'tpp', 'bank', null],
    );
  });
});

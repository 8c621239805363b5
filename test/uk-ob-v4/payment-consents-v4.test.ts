import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { getConsent } from '../../src/consents/consent-service.ts';
import {
  type ApiResponse,
  consentCount,
  DOMESTIC_PAYMENT,
  DOMESTIC_PAYMENT_V4,
  domesticPaymentRequest,
  domesticPaymentRequestV4,
} from '../support/consent-api.ts';
import { useAssent, useConsentApi, useResourceServer, useTpp } from '../support/fixture.ts';
import { customerWithAccounts, grantConsent } from '../support/granted-consents.ts';

interface V4Envelope {
  Id: string;
  Errors: { ErrorCode: string; Message: string; Path?: string }[];
}
interface V4Payment {
  Data: {
    ConsentId: string;
    Status: string;
    StatusReason?: { StatusReasonCode?: string; StatusReasonDescription?: string }[];
    Initiation: Record<string, unknown> & {
      RemittanceInformation?: { Structured: { CreditorReferenceInformation: { Reference: string } }[] };
      CreditorAgent?: { SchemeName: string; Identification: string };
    };
  };
  Risk: Record<string, unknown>;
  Links: { Self: string };
}

function assertV4Error(response: ApiResponse, status: number, code: string, path?: string) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  const envelope = response.body as V4Envelope;
  assert.deepEqual(Object.keys(envelope).toSorted(), ['Errors', 'Id']);
  const match = envelope.Errors.find((error) => error.ErrorCode === code && (path === undefined || error.Path === path));
  assert.ok(match, `expected ${code} at ${path ?? '(any path)'}, got ${JSON.stringify(envelope.Errors)}`);
}

const key = () => ({ 'x-idempotency-key': randomUUID() });

/** UK OB v4.0 domestic-payment consents on the one model (issue 29, docs/uk-ob-v4.md). */
describe('UK OB v4.0 domestic-payment consents', () => {
  const assent = useAssent();
  const tpp = useTpp(assent);
  const api = useConsentApi(assent, tpp);
  const rs = useResourceServer(assent);

  const readV4 = async (id: string) => (await api.call('GET', `${DOMESTIC_PAYMENT_V4}/${id}`)).body as V4Payment;
  /** Ends a consent as the bank's expiry job or the customer's revocation would (their own tests cover those paths). */
  const end = (id: string, status: 'Revoked' | 'Expired') =>
    assent.db.updateTable('consent').set({ status, status_updated_at: new Date() }).where('id', '=', id).execute();

  const create = async (body: unknown = domesticPaymentRequestV4(), headers: Record<string, string> = key()) => {
    const created = await api.call('POST', DOMESTIC_PAYMENT_V4, { body, headers });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as V4Payment;
  };

  test('created in v4.0 words, read back through v4.0, stored in the model as created in v4.0', async () => {
    const body = await create(
      domesticPaymentRequestV4(
        { CreditorAgent: { SchemeName: 'UK.OBIE.BICFI', Identification: 'NWBKGB2L' } },
        { CategoryPurposeCode: 'SUPP' },
      ),
    );
    assert.equal(body.Data.Status, 'AWAU');
    assert.deepEqual(body.Data.Initiation.RemittanceInformation, {
      Structured: [{ CreditorReferenceInformation: { Reference: 'FRESCO-101' } }],
    });
    assert.deepEqual(body.Data.Initiation.CreditorAgent, { SchemeName: 'UK.OBIE.BICFI', Identification: 'NWBKGB2L' });
    assert.deepEqual(body.Risk, { PaymentContextCode: 'TransferToThirdParty', CategoryPurposeCode: 'SUPP' });
    assert.equal(body.Links.Self, `${assent.issuer}${DOMESTIC_PAYMENT_V4}/${body.Data.ConsentId}`);
    const read = await api.call('GET', `${DOMESTIC_PAYMENT_V4}/${body.Data.ConsentId}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, body);

    const consent = await getConsent(assent.db, body.Data.ConsentId);
    assert.equal(consent?.standard, 'uk_ob_v4');
    assert.equal(consent?.type, 'domestic_payment');
    assert.equal(consent?.payment?.reference, 'FRESCO-101');
    assert.equal(consent?.payment?.creditorAgent, 'NWBKGB2L');
    assert.equal(consent?.payment?.creditorName, 'ACME Inc');
    const history = await auditHistory(assent.db, 'consent', body.Data.ConsentId);
    assert.deepEqual(
      history.map((event) => event.event),
      ['consent.created'],
    );

    // v3.1 reads it too, in its own words: the same reference, the v3.1 status name.
    const v3 = await api.call('GET', `${DOMESTIC_PAYMENT}/${body.Data.ConsentId}`);
    assert.equal(v3.status, 200);
    const v3Data = (v3.body as { Data: { Status: string; Initiation: { RemittanceInformation: unknown } } }).Data;
    assert.equal(v3Data.Status, 'AwaitingAuthorisation');
    assert.deepEqual(v3Data.Initiation.RemittanceInformation, { Reference: 'FRESCO-101' });
  });

  test('every bad request is refused in the v4.0 envelope and writes nothing', async () => {
    const before = await consentCount(assent.db);
    const bad: [unknown, Record<string, string>, string, string | undefined][] = [
      [domesticPaymentRequestV4(), {}, 'U007', 'x-idempotency-key'],
      [domesticPaymentRequestV4(), { 'x-idempotency-key': 'k'.repeat(41) }, 'U006', 'x-idempotency-key'],
      [{ Data: domesticPaymentRequestV4().Data }, key(), 'U004', 'Risk'],
      [domesticPaymentRequestV4({}, { PaymentContextCode: 'PartyToParty' }), key(), 'U002', 'Risk.PaymentContextCode'],
      [domesticPaymentRequestV4({}, { PaymentContextCode: 'PispPayee' }), key(), 'U002', 'Risk.PaymentContextCode'],
      [domesticPaymentRequestV4({}, { Surprise: true }), key(), 'U005', 'Risk.Surprise'],
      [domesticPaymentRequestV4({}, { DeliveryAddress: { Planet: 'Mars' } }), key(), 'U005', 'Risk.DeliveryAddress.Planet'],
      [
        domesticPaymentRequestV4({ InstructedAmount: { Amount: '0.00', Currency: 'GBP' } }),
        key(),
        'U002',
        'Data.Initiation.InstructedAmount.Amount',
      ],
      [
        domesticPaymentRequestV4({ InstructedAmount: { Amount: '1.00', Currency: 'XXY' } }),
        key(),
        'U023',
        'Data.Initiation.InstructedAmount.Currency',
      ],
      [
        domesticPaymentRequestV4({ CreditorAccount: { SchemeName: 'UK.OBIE.PAN', Identification: '1', Name: 'A' } }),
        key(),
        'U027',
        'Data.Initiation.CreditorAccount.SchemeName',
      ],
      [
        domesticPaymentRequestV4({ CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '12' } }),
        key(),
        'U004',
        'Data.Initiation.CreditorAccount.Name',
      ],
      [
        domesticPaymentRequestV4({ CreditorAgent: { SchemeName: 'UK.OBIE.NCC', Identification: '123456' } }),
        key(),
        'U027',
        'Data.Initiation.CreditorAgent.SchemeName',
      ],
      [
        domesticPaymentRequestV4({ CreditorAgent: { SchemeName: 'UK.OBIE.BICFI', Identification: 'not a bic' } }),
        key(),
        'U002',
        'Data.Initiation.CreditorAgent.Identification',
      ],
      [
        domesticPaymentRequestV4({
          RemittanceInformation: {
            Structured: [{ CreditorReferenceInformation: { Reference: 'A' } }, { CreditorReferenceInformation: { Reference: 'B' } }],
          },
        }),
        key(),
        'U005',
        'Data.Initiation.RemittanceInformation.Structured',
      ],
      [domesticPaymentRequestV4({ EndToEndIdentification: 'x'.repeat(36) }), key(), 'U002', 'Data.Initiation.EndToEndIdentification'],
    ];
    for (const [body, headers, code, path] of bad)
      assertV4Error(await api.call('POST', DOMESTIC_PAYMENT_V4, { body, headers }), 400, code, path);
    assert.equal(await consentCount(assent.db), before, 'nothing was written');
    // No DELETE in v4.0 for payment consents (405, as v3.1); an unknown id is U011.
    assertV4Error(await api.call('DELETE', `${DOMESTIC_PAYMENT_V4}/${randomUUID()}`), 405, 'U005');
    assertV4Error(await api.call('GET', `${DOMESTIC_PAYMENT_V4}/${randomUUID()}`), 404, 'U011');
  });

  test('a repeated x-idempotency-key: the same body returns the same consent; another body is U006 and writes nothing', async () => {
    const headers = key();
    const first = await create(domesticPaymentRequestV4(), headers);
    const again = await create(domesticPaymentRequestV4(), headers);
    assert.equal(again.Data.ConsentId, first.Data.ConsentId);
    const before = await consentCount(assent.db);
    const history = await auditHistory(assent.db, 'consent', first.Data.ConsentId);
    const changed = await api.call('POST', DOMESTIC_PAYMENT_V4, {
      body: domesticPaymentRequestV4({ InstructedAmount: { Amount: '999.99', Currency: 'GBP' } }),
      headers,
    });
    assertV4Error(changed, 400, 'U006', 'x-idempotency-key');
    assert.equal(await consentCount(assent.db), before);
    assert.deepEqual(await auditHistory(assent.db, 'consent', first.Data.ConsentId), history);
    assert.equal((await getConsent(assent.db, first.Data.ConsentId))?.payment?.amount, '165.88', 'the first consent is unchanged');
  });

  test('a v3.1 payment consent reads through v4.0: the reference in Structured, the Risk v4.0 knows, a code v4.0 dropped left out', async () => {
    const created = await api.call('POST', DOMESTIC_PAYMENT, {
      body: {
        ...domesticPaymentRequest(),
        Risk: { PaymentContextCode: 'PartyToParty', MerchantCategoryCode: '5967', ContractPresentIndicator: true, Legacy: 'x' },
      },
      headers: key(),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const asV4 = await api.call('GET', `${DOMESTIC_PAYMENT_V4}/${consentId}`);
    assert.equal(asV4.status, 200, JSON.stringify(asV4.body));
    const body = asV4.body as V4Payment;
    assert.equal(body.Data.Status, 'AWAU');
    assert.deepEqual(body.Data.Initiation.RemittanceInformation, {
      Structured: [{ CreditorReferenceInformation: { Reference: 'FRESCO-101' } }],
    });
    assert.deepEqual(body.Risk, { MerchantCategoryCode: '5967', ContractPresentIndicator: true });
    const asV3 = await api.call('GET', `${DOMESTIC_PAYMENT}/${consentId}`);
    assert.deepEqual((asV3.body as { Risk: unknown }).Risk, {
      PaymentContextCode: 'PartyToParty',
      MerchantCategoryCode: '5967',
      ContractPresentIndicator: true,
      Legacy: 'x',
    });
    assert.equal((await getConsent(assent.db, consentId))?.standard, 'uk_ob_v3', 'reading in v4.0 leaves its version as it was');
  });

  test('a v4.0 payment consent binds by openbanking_intent_id (openid-client), and the bank consumes it exactly once: COND', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const { consentId, tokens } = await grantConsent(assent, tpp, customer, {
      type: 'domestic_payment',
      accounts: [current],
      version: 'v4.0',
    });
    assert.equal(tokens.claims()?.openbanking_intent_id, consentId);
    const read = () => readV4(consentId);
    assert.equal((await read()).Data.Status, 'AUTH');
    const introspected = await rs.introspect(tokens.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.standard, 'uk_ob_v4');
    assert.deepEqual(introspected.account_ids, [current.id]);

    const results = await Promise.all(Array.from({ length: 8 }, () => rs.call('POST', `/bank/payment-consents/${consentId}/consume`)));
    assert.equal(results.filter((result) => result.status === 200).length, 1, 'consumed exactly once');
    assert.ok(results.filter((result) => result.status !== 200).every((result) => result.status === 400));
    assert.equal((await read()).Data.Status, 'COND');
    assert.equal((await getConsent(assent.db, consentId))?.status, 'Consumed');
    assert.equal((await rs.introspect(tokens.access_token)).active, false, 'the payment token dies with it');
  });

  test('a revoked or expired payment consent reads RJCT in v4.0, with its StatusReasonCode', async () => {
    const revoked = await create();
    const expired = await create();
    await end(revoked.Data.ConsentId, 'Revoked');
    await end(expired.Data.ConsentId, 'Expired');
    assert.equal((await readV4(revoked.Data.ConsentId)).Data.Status, 'RJCT');
    assert.equal((await readV4(revoked.Data.ConsentId)).Data.StatusReason?.[0]?.StatusReasonCode, 'DS02');
    assert.equal((await readV4(expired.Data.ConsentId)).Data.Status, 'RJCT');
    assert.equal((await readV4(expired.Data.ConsentId)).Data.StatusReason?.[0]?.StatusReasonCode, 'TKXP');
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type * as oidc from 'openid-client';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { domesticVrpResponseV4 } from '../../src/consent-api/vrp-v4-responses.ts';
import { vrpFundsConfirmationResponseV4 } from '../../src/consent-api/vrp-funds-confirmation.ts';
import { AccountSelectionInvalid } from '../../src/consents/consent-errors.ts';
import { authoriseConsent, getConsent } from '../../src/consents/consent-service.ts';
import { postgresAccountDirectory, setAvailableBalance } from '../../src/customers/account-directory.ts';
import { tlsAgent } from '../support/assent.ts';
import {
  type ApiResponse,
  callProtectedResource,
  commercialVrpRequestV4,
  consentCount,
  DOMESTIC_VRP,
  DOMESTIC_VRP_V4,
  domesticVrpRequestV4,
} from '../support/consent-api.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { pageText, signInToDashboard } from '../support/dashboard.ts';
import { useAssent } from '../support/fixture.ts';
import { grantConsent } from '../support/granted-consents.ts';
import { refusal, useVrpPayments } from '../support/vrp-payments.ts';

function assertV4Error(response: ApiResponse, status: number, code: string, path?: string) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  const envelope = response.body as { Id: string; Errors: { ErrorCode: string; Message: string; Path?: string }[] };
  assert.deepEqual(Object.keys(envelope).toSorted(), ['Errors', 'Id'], 'v4.0 drops the deprecated Code and Message');
  const match = envelope.Errors.find((error) => error.ErrorCode === code && (path === undefined || error.Path === path));
  assert.ok(match, `expected ${code} at ${path ?? '(any path)'}, got ${JSON.stringify(envelope.Errors)}`);
}

const key = () => ({ 'x-idempotency-key': randomUUID() });
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

/** UK OB v4.0 domestic VRP consents on the one model (issue 29, docs/uk-ob-v4.md, docs/vrp.md). */
describe('UK OB v4.0 domestic VRP consents', () => {
  const assent = useAssent();
  const { pisp, bank, people, authorised, pay } = useVrpPayments(assent);

  const create = async (body: unknown) => {
    const created = await pisp.call('POST', DOMESTIC_VRP_V4, { body, headers: key() });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return domesticVrpResponseV4.parse(created.body);
  };
  const auditCount = async () =>
    Number(
      (
        await assent.db
          .selectFrom('audit_event')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  test('a sweeping consent is created and read in v4.0 shapes at v4.0’s /pisp path, created in v4.0 in the model', async () => {
    const created = await create(domesticVrpRequestV4({ PSUInteractionTypes: ['OffSession'] }));
    const { Data } = created;
    assert.equal(Data.Status, 'AWAU');
    assert.equal(created.Links.Self, `${assent.issuer}/open-banking/v4.0/pisp/domestic-vrp-consents/${Data.ConsentId}`);
    assert.deepEqual(Data.ControlParameters.MaximumIndividualAmount, { Amount: '250.00', Currency: 'GBP' });
    assert.deepEqual(Data.ControlParameters.VRPType, ['UK.OBIE.VRPType.Sweeping']);
    assert.deepEqual(Data.ControlParameters.PSUInteractionTypes, ['OffSession']);
    assert.deepEqual(Data.Initiation, {
      CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '08080021325699', Name: 'ACME Savings' },
      RemittanceInformation: {
        Structured: [{ CreditorReferenceInformation: { Reference: 'SWEEP' } }],
        Unstructured: ['Monthly sweep to savings'],
      },
    });
    assert.deepEqual(created.Risk, { PaymentContextCode: 'TransferToSelf' });
    assert.deepEqual(domesticVrpResponseV4.parse((await pisp.call('GET', `${DOMESTIC_VRP_V4}/${Data.ConsentId}`)).body), created);

    const consent = await getConsent(assent.db, Data.ConsentId);
    assert.equal(consent?.standard, 'uk_ob_v4');
    assert.equal(consent?.vrp?.purpose, 'sweeping');
    assert.deepEqual(consent?.vrp?.initiation.RemittanceInformation, { Reference: 'SWEEP', Unstructured: 'Monthly sweep to savings' });
    assert.deepEqual(
      (await auditHistory(assent.db, 'consent', Data.ConsentId)).map((event) => event.event),
      ['consent.created'],
    );

    // v3.1 reads the same consent in its own words.
    const asV3 = (await pisp.call('GET', `${DOMESTIC_VRP}/${Data.ConsentId}`)).body as {
      Data: { Status: string; Initiation: { RemittanceInformation: unknown } };
    };
    assert.equal(asV3.Data.Status, 'AwaitingAuthorisation');
    assert.deepEqual(asV3.Data.Initiation.RemittanceInformation, { Reference: 'SWEEP', Unstructured: 'Monthly sweep to savings' });
  });

  test('a commercial (VRPType.Other) consent names its merchant from v4.0’s Risk, ContractPresentIndicator spelled v4.0’s way', async () => {
    const created = await create(commercialVrpRequestV4());
    assert.deepEqual(created.Risk, {
      PaymentContextCode: 'BillingGoodsAndServicesInAdvance',
      MerchantCategoryCode: '5815',
      MerchantCustomerIdentification: 'CUST-0042',
      ContractPresentIndicator: true,
      BeneficiaryPrepopulatedIndicator: true,
    });
    const consent = await getConsent(assent.db, created.Data.ConsentId);
    assert.equal(consent?.vrp?.purpose, 'commercial');
    assert.deepEqual(consent?.vrp?.merchant, {
      name: 'Acme Streaming',
      categoryCode: '5815',
      customerReference: 'CUST-0042',
      context: 'billing_in_advance',
      contractWithTpp: true,
      payeePrefilled: true,
    });
  });

  test('every invalid request is refused in v4.0’s envelope with its U0xx code and path, and writes nothing', async () => {
    const [consentsBefore, auditBefore] = [await consentCount(assent.db), await auditCount()];
    const refused = (body: unknown, headers: Record<string, string> = key()) => pisp.call('POST', DOMESTIC_VRP_V4, { body, headers });
    const cases: [string, unknown, string, string][] = [
      [
        'v3.1’s misspelt indicator is not a field of v4.0’s closed OBRisk1',
        commercialVrpRequestV4({}, { ContractPresentInidicator: true }),
        'U005',
        'Risk.ContractPresentInidicator',
      ],
      ['PispPayee has no v4.0 code', commercialVrpRequestV4({}, { PaymentContextCode: 'PispPayee' }), 'U002', 'Risk.PaymentContextCode'],
      [
        'a cVRP pays a third party',
        commercialVrpRequestV4({}, { PaymentContextCode: 'TransferToSelf' }),
        'U002',
        'Risk.PaymentContextCode',
      ],
      [
        'a cVRP names its merchant category',
        commercialVrpRequestV4({}, { MerchantCategoryCode: undefined }),
        'U004',
        'Risk.MerchantCategoryCode',
      ],
      ['an ISO 18245 code is digits', commercialVrpRequestV4({}, { MerchantCategoryCode: 'ABC' }), 'U002', 'Risk.MerchantCategoryCode'],
      [
        'sweeping moves money to oneself',
        domesticVrpRequestV4({}, {}, { PaymentContextCode: 'TransferToThirdParty' }),
        'U002',
        'Risk.PaymentContextCode',
      ],
      [
        'one purpose per consent',
        domesticVrpRequestV4({ VRPType: ['UK.OBIE.VRPType.Sweeping', 'UK.OBIE.VRPType.Other'] }),
        'U002',
        'Data.ControlParameters.VRPType',
      ],
      [
        'an unknown VRPType',
        domesticVrpRequestV4({ VRPType: ['UK.OBIE.VRPType.Commercial'] }),
        'U002',
        'Data.ControlParameters.VRPType[0]',
      ],
      [
        'an unknown interaction type',
        domesticVrpRequestV4({ PSUInteractionTypes: ['Attended'] }),
        'U002',
        'Data.ControlParameters.PSUInteractionTypes[0]',
      ],
      [
        'SupplementaryData Assent cannot process',
        domesticVrpRequestV4({ SupplementaryData: { sweepFloor: '100.00' } }),
        'U005',
        'Data.ControlParameters.SupplementaryData.sweepFloor',
      ],
      [
        'no calendar fortnight',
        domesticVrpRequestV4({
          PeriodicLimits: [{ Amount: '10.00', Currency: 'GBP', PeriodType: 'Fortnight', PeriodAlignment: 'Calendar' }],
        }),
        'U002',
        'Data.ControlParameters.PeriodicLimits[0].PeriodAlignment',
      ],
      [
        'limits in one currency',
        domesticVrpRequestV4({ PeriodicLimits: [{ Amount: '10.00', Currency: 'EUR', PeriodType: 'Month', PeriodAlignment: 'Consent' }] }),
        'U002',
        'Data.ControlParameters.PeriodicLimits[0].Currency',
      ],
      ['a past ValidToDateTime', domesticVrpRequestV4({ ValidToDateTime: inDays(-1) }), 'U003', 'Data.ControlParameters.ValidToDateTime'],
      [
        'a positive amount',
        domesticVrpRequestV4({ MaximumIndividualAmount: { Amount: '0.00', Currency: 'GBP' } }),
        'U002',
        'Data.ControlParameters.MaximumIndividualAmount.Amount',
      ],
      [
        'Max70Text names',
        domesticVrpRequestV4(
          {},
          { CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '08080021325699', Name: 'A'.repeat(71) } },
        ),
        'U002',
        'Data.Initiation.CreditorAccount.Name',
      ],
      [
        'the debtor is named (OBCashAccountDebtorWithName)',
        domesticVrpRequestV4({}, { DebtorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40400411111111' } }),
        'U004',
        'Data.Initiation.DebtorAccount.Name',
      ],
      ['the payee is named', domesticVrpRequestV4({}, { CreditorAccount: undefined }), 'U004', 'Data.Initiation.CreditorAccount'],
      [
        'a scheme Assent does not support',
        domesticVrpRequestV4({}, { CreditorAccount: { SchemeName: 'UK.OBIE.Wallet', Identification: 'W-1', Name: 'Wallet' } }),
        'U027',
        'Data.Initiation.CreditorAccount.SchemeName',
      ],
      [
        'one reference',
        domesticVrpRequestV4(
          {},
          {
            RemittanceInformation: {
              Structured: [{ CreditorReferenceInformation: { Reference: 'A' } }, { CreditorReferenceInformation: { Reference: 'B' } }],
            },
          },
        ),
        'U005',
        'Data.Initiation.RemittanceInformation.Structured',
      ],
      [
        'one unstructured line',
        domesticVrpRequestV4({}, { RemittanceInformation: { Unstructured: ['one', 'two'] } }),
        'U005',
        'Data.Initiation.RemittanceInformation.Unstructured[1]',
      ],
      ['Risk is required', { Data: domesticVrpRequestV4().Data }, 'U004', 'Risk'],
    ];
    for (const [why, body, code, path] of cases) {
      const response = await refused(body);
      try {
        assertV4Error(response, 400, code, path);
      } catch (error) {
        throw new Error(`${why}: ${(error as Error).message}`, { cause: error });
      }
    }
    assertV4Error(await refused(domesticVrpRequestV4(), {}), 400, 'U007', 'x-idempotency-key');
    assertV4Error(await refused(domesticVrpRequestV4(), { 'x-idempotency-key': 'k'.repeat(41) }), 400, 'U006', 'x-idempotency-key');
    assert.equal(await consentCount(assent.db), consentsBefore, 'no consent was created');
    assert.equal(await auditCount(), auditBefore, 'no audit event was written');

    const none = await pisp.raw('POST', DOMESTIC_VRP_V4, { 'content-type': 'application/json' });
    assert.equal(none.status, 401);
    assert.equal(none.body, undefined, 'v4.0: a 401 has no body');
    assertV4Error(await pisp.call('GET', `${DOMESTIC_VRP_V4}/${randomUUID()}`), 404, 'U011');
    assertV4Error(await pisp.call('DELETE', `${DOMESTIC_VRP_V4}/${randomUUID()}`), 404, 'U011');
  });

  test('a repeated idempotency key returns the first consent; with another body it is U006 and changes nothing', async () => {
    const [headers, body] = [key(), domesticVrpRequestV4()];
    const first = await pisp.call('POST', DOMESTIC_VRP_V4, { body, headers });
    const again = await pisp.call('POST', DOMESTIC_VRP_V4, { body, headers });
    assert.equal(again.status, 201);
    const id = domesticVrpResponseV4.parse(first.body).Data.ConsentId;
    assert.equal(domesticVrpResponseV4.parse(again.body).Data.ConsentId, id);
    const before = await consentCount(assent.db);
    assertV4Error(
      await pisp.call('POST', DOMESTIC_VRP_V4, {
        body: domesticVrpRequestV4({ MaximumIndividualAmount: { Amount: '1.00', Currency: 'GBP' } }),
        headers,
      }),
      400,
      'U006',
      'x-idempotency-key',
    );
    assert.equal(await consentCount(assent.db), before);
    assert.deepEqual((await getConsent(assent.db, id))?.vrp?.controlParameters.MaximumIndividualAmount, {
      Amount: '250.00',
      Currency: 'GBP',
    });
  });

  test('DELETE in v4.0 withdraws a consent awaiting the customer (RJCT) and revokes an authorised one (CANC)', async () => {
    const waiting = (await create(domesticVrpRequestV4())).Data.ConsentId;
    assert.equal((await pisp.call('DELETE', `${DOMESTIC_VRP_V4}/${waiting}`)).status, 204);
    assert.equal(domesticVrpResponseV4.parse((await pisp.call('GET', `${DOMESTIC_VRP_V4}/${waiting}`)).body).Data.Status, 'RJCT');
    assertV4Error(await pisp.call('DELETE', `${DOMESTIC_VRP_V4}/${waiting}`), 400, 'U009');

    const live = await authorised(domesticVrpRequestV4(), DOMESTIC_VRP_V4);
    assert.equal(domesticVrpResponseV4.parse((await pisp.call('GET', `${DOMESTIC_VRP_V4}/${live}`)).body).Data.Status, 'AUTH');
    assert.equal((await pay(live, '10.00')).status, 201);
    assert.equal((await pisp.call('DELETE', `${DOMESTIC_VRP_V4}/${live}`)).status, 204);
    assert.equal(domesticVrpResponseV4.parse((await pisp.call('GET', `${DOMESTIC_VRP_V4}/${live}`)).body).Data.Status, 'CANC');
    assert.equal(refusal(await pay(live, '10.00')).Message, 'the consent is Revoked');
  });

  test('a v4.0 sweeping consent never pays into the account it pays from: authorising it with that account is refused', async () => {
    const { savings } = people;
    const consentId = (
      await create(
        domesticVrpRequestV4(
          {},
          { CreditorAccount: { SchemeName: savings.schemeName, Identification: savings.identification, Name: 'Saver' } },
        ),
      )
    ).Data.ConsentId;
    await assert.rejects(
      authoriseConsent(assent.db, postgresAccountDirectory(assent.db), {
        consentId,
        clientId: pisp.tpp.clientId,
        customerId: people.customer.id,
        accountIds: [savings.id],
        grantId: 'grant-never-saved',
      }),
      (error: unknown) => error instanceof AccountSelectionInvalid && error.paysIntoItself,
    );
    assert.equal(domesticVrpResponseV4.parse((await pisp.call('GET', `${DOMESTIC_VRP_V4}/${consentId}`)).body).Data.Status, 'AWAU');
  });

  test('a v4.0 VRP consent goes through the token flow, introspection, the bank’s payments, funds confirmation and the dashboard as a v3.1 one', async () => {
    const { customer, current } = people;
    const granted = await grantConsent(assent, pisp.tpp, customer, {
      type: 'domestic_vrp',
      accounts: [current],
      version: 'v4.0',
      vrp: { ValidToDateTime: '2027-06-30T22:59:59Z' },
    });
    const { consentId, tokens, dpop } = granted;
    assert.equal(tokens.claims()?.openbanking_intent_id, consentId);
    assert.match(granted.consentPage.body, /up to £250 a payment, at most £1,000 a calendar month, until 30 June 2027, to ACME Savings/);
    const introspected = await bank.introspect(tokens.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.consent_type, 'domestic_vrp');
    assert.equal(introspected.standard, 'uk_ob_v4');
    assert.deepEqual((introspected.control_parameters as { MaximumIndividualAmount: unknown }).MaximumIndividualAmount, {
      Amount: '250.00',
      Currency: 'GBP',
    });
    const looked = await bank.call('GET', `/bank/consents/${consentId}`);
    assert.equal(looked.status, 200);
    const lookedUp = (looked.body as { Data: Record<string, unknown> }).Data;
    assert.deepEqual([lookedUp.Standard, lookedUp.ConsentType, lookedUp.VrpPurpose], ['uk_ob_v4', 'domestic_vrp', 'sweeping']);
    assert.equal((await pay(consentId, '200.00')).status, 201);
    assert.equal((await pay(consentId, '250.00')).status, 201);
    const periods = (
      (await bank.introspect(tokens.access_token)).authorization_details as unknown as { periods: { Paid: string; Remaining: string }[] }[]
    )[0]!.periods;
    assert.deepEqual(
      periods.map((period) => [period.Paid, period.Remaining]),
      [['450.00', '550.00']],
    );

    // Funds confirmation, v4.0's route, with the customer's token of the consent.
    const confirm = (
      data: Record<string, unknown>,
      token: string = tokens.access_token,
      path = DOMESTIC_VRP_V4,
      handle: oidc.DPoPHandle = dpop,
    ) =>
      callProtectedResource(pisp.tpp.config, token, new URL(`${path}/${consentId}/funds-confirmation`, assent.issuer), 'POST', {
        body: JSON.stringify({ Data: { ConsentId: consentId, InstructedAmount: { Amount: '100.00', Currency: 'GBP' }, ...data } }),
        headers: new Headers({ 'content-type': 'application/json' }),
        dpop: handle,
      });
    await setAvailableBalance(assent.db, current.id, '500.00');
    const available = await confirm({});
    assert.equal(available.status, 201, JSON.stringify(available.body));
    const answer = vrpFundsConfirmationResponseV4.parse(available.body);
    assert.equal(answer.Data.FundsAvailableResult.FundsAvailable, 'Available');
    assert.equal(answer.Data.Reference, undefined, 'v4.0 lets the Reference be left out');
    assert.equal(
      vrpFundsConfirmationResponseV4.parse(
        (await confirm({ Reference: 'SWEEP', InstructedAmount: { Amount: '500.01', Currency: 'GBP' } })).body,
      ).Data.FundsAvailableResult.FundsAvailable,
      'NotAvailable',
    );
    assertV4Error(await confirm({ ConsentId: randomUUID() }), 400, 'U008', 'Data.ConsentId');
    assertV4Error(await confirm({ InstructedAmount: { Amount: '1.001', Currency: 'GBP' } }), 400, 'U002', 'Data.InstructedAmount.Amount');
    const v3 = await confirm({ Reference: 'SWEEP' }, tokens.access_token, DOMESTIC_VRP);
    assert.equal(v3.status, 201, 'v3.1’s route confirms funds on a v4.0 consent too');
    const withClientToken = await pisp.call('POST', `${DOMESTIC_VRP_V4}/${consentId}/funds-confirmation`, {
      body: { Data: { ConsentId: consentId, InstructedAmount: { Amount: '1.00', Currency: 'GBP' } } },
    });
    assert.equal(withClientToken.status, 401, "v4.0's endpoints table: Grant Type Authorization Code, not the TPP's client token");

    // The dashboard shows it as any VRP consent: its limits and what has been paid this period.
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    await signInToDashboard(browser, assent.issuer, customer);
    const detail = pageText(await browser.open(new URL(`/dashboard/consents/${consentId}`, assent.issuer)));
    assert.match(detail, /Payments up to £250 a payment, at most £1,000 a calendar month, until 30 June 2027, to ACME Savings\./);
    assert.match(detail, /£450\.00 £550\.00 £1,000\.00/);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { down, up } from '../../migrations/2026_12_08_0500_commercial_vrp.ts';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { authoriseConsent, getConsent } from '../../src/consents/consent-service.ts';
import { postgresAccountDirectory } from '../../src/customers/account-directory.ts';
import { type ApiResponse, commercialVrpRequest, consentCount, DOMESTIC_VRP, domesticVrpRequest } from '../support/consent-api.ts';
import { customerWithAccounts } from '../support/granted-consents.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';

interface Envelope {
  Errors: { ErrorCode: string; Message: string; Path?: string }[];
}
interface VrpBody {
  Data: { ConsentId: string; Status: string; ControlParameters: Record<string, unknown>; Initiation: Record<string, unknown> };
  Risk: Record<string, unknown>;
}

const key = () => ({ 'x-idempotency-key': crypto.randomUUID() });

function assertObError(response: ApiResponse, code: string, path: string) {
  assert.equal(response.status, 400, JSON.stringify(response.body));
  const errors = (response.body as Envelope).Errors;
  assert.ok(
    errors.some((error) => error.ErrorCode === code && error.Path === path),
    `expected ${code} at ${path}, got ${JSON.stringify(errors)}`,
  );
}

describe('UK OB v3.1 commercial VRP (VRPType Other) beside sweeping', () => {
  const assent = useAssent();
  const pisp = useConsentApi(assent, useTpp(assent));

  const create = async (body: unknown) => {
    const created = await pisp.call('POST', DOMESTIC_VRP, { body, headers: key() });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as VrpBody;
  };

  test('a cVRP consent is created with its interaction types and merchant indicators, answered as sent, and stored as a commercial mandate', async () => {
    const request = commercialVrpRequest();
    const body = await create(request);
    assert.equal(body.Data.Status, 'AwaitingAuthorisation');
    assert.deepEqual(body.Data.ControlParameters.VRPType, ['UK.OBIE.VRPType.Other']);
    assert.deepEqual(body.Data.ControlParameters.PSUInteractionTypes, ['OffSession']);
    assert.deepEqual(
      body.Risk,
      request.Risk,
      'the Risk block is answered as it came, the v3.1 spelling ContractPresentInidicator included',
    );
    const read = await pisp.call('GET', `${DOMESTIC_VRP}/${body.Data.ConsentId}`);
    assert.deepEqual((read.body as VrpBody).Data, body.Data);

    const consent = await getConsent(assent.db, body.Data.ConsentId);
    assert.equal(consent?.vrp?.purpose, 'commercial');
    assert.deepEqual(consent?.vrp?.merchant, {
      name: 'Acme Streaming',
      categoryCode: '5815',
      customerReference: 'CUST-0042',
      context: 'billing_in_advance',
      contractWithTpp: true,
      payeePrefilled: true,
    });
    assert.deepEqual(
      (await auditHistory(assent.db, 'consent', body.Data.ConsentId)).map((event) => event.event),
      ['consent.created'],
    );
  });

  test('a sweeping consent is answered exactly as before: no new keys in its control parameters, and it is stored as sweeping', async () => {
    const body = await create(domesticVrpRequest());
    assert.deepEqual(Object.keys(body.Data.ControlParameters).toSorted(), [
      'MaximumIndividualAmount',
      'PSUAuthenticationMethods',
      'PeriodicLimits',
      'VRPType',
      'ValidFromDateTime',
      'ValidToDateTime',
    ]);
    assert.deepEqual(body.Risk, {});
    assert.doesNotMatch(JSON.stringify(body), /purpose|merchant|PSUInteractionTypes/);
    const consent = await getConsent(assent.db, body.Data.ConsentId);
    assert.equal(consent?.vrp?.purpose, 'sweeping');
    assert.equal(consent?.vrp?.merchant, undefined);
  });

  const malformed: [string, unknown, string, string][] = [
    [
      'both VRP types in one consent',
      commercialVrpRequest({ VRPType: ['UK.OBIE.VRPType.Sweeping', 'UK.OBIE.VRPType.Other'] }),
      'UK.OBIE.Field.Invalid',
      'Data.ControlParameters.VRPType',
    ],
    [
      'an unknown PSU interaction type',
      commercialVrpRequest({ PSUInteractionTypes: ['Sometimes'] }),
      'UK.OBIE.Field.Invalid',
      'Data.ControlParameters.PSUInteractionTypes[0]',
    ],
    [
      'a PSU interaction type listed twice',
      commercialVrpRequest({ PSUInteractionTypes: ['InSession', 'InSession'] }),
      'UK.OBIE.Field.Invalid',
      'Data.ControlParameters.PSUInteractionTypes',
    ],
    [
      'an empty list of PSU interaction types',
      commercialVrpRequest({ PSUInteractionTypes: [] }),
      'UK.OBIE.Field.Invalid',
      'Data.ControlParameters.PSUInteractionTypes',
    ],
    [
      'a cVRP without its payment context',
      commercialVrpRequest({}, { PaymentContextCode: undefined }),
      'UK.OBIE.Field.Missing',
      'Risk.PaymentContextCode',
    ],
    [
      'a cVRP that says it transfers to the customer themself',
      commercialVrpRequest({}, { PaymentContextCode: 'TransferToSelf' }),
      'UK.OBIE.Field.Invalid',
      'Risk.PaymentContextCode',
    ],
    [
      'a payment context v3.1.11 does not know',
      commercialVrpRequest({}, { PaymentContextCode: 'Gambling' }),
      'UK.OBIE.Field.Invalid',
      'Risk.PaymentContextCode',
    ],
    [
      'a cVRP without its merchant category',
      commercialVrpRequest({}, { MerchantCategoryCode: undefined }),
      'UK.OBIE.Field.Missing',
      'Risk.MerchantCategoryCode',
    ],
    [
      'a merchant category that is not an ISO 18245 code',
      commercialVrpRequest({}, { MerchantCategoryCode: '58A5' }),
      'UK.OBIE.Field.Invalid',
      'Risk.MerchantCategoryCode',
    ],
    [
      'a merchant customer identification over 70 characters',
      commercialVrpRequest({}, { MerchantCustomerIdentification: 'x'.repeat(71) }),
      'UK.OBIE.Field.Invalid',
      'Risk.MerchantCustomerIdentification',
    ],
    [
      'a contract indicator that is not a boolean',
      commercialVrpRequest({}, { ContractPresentInidicator: 'yes' }),
      'UK.OBIE.Field.Invalid',
      'Risk.ContractPresentInidicator',
    ],
    [
      'a prepopulated-beneficiary indicator that is not a boolean',
      commercialVrpRequest({}, { BeneficiaryPrepopulatedIndicator: 1 }),
      'UK.OBIE.Field.Invalid',
      'Risk.BeneficiaryPrepopulatedIndicator',
    ],
    [
      'a sweeping consent that says it pays a third party',
      { ...domesticVrpRequest(), Risk: { PaymentContextCode: 'TransferToThirdParty' } },
      'UK.OBIE.Field.Invalid',
      'Risk.PaymentContextCode',
    ],
  ];
  for (const [what, body, code, path] of malformed) {
    test(`${what} is refused with ${code} at ${path} and writes nothing`, async () => {
      const before = await consentCount(assent.db);
      assertObError(await pisp.call('POST', DOMESTIC_VRP, { body, headers: key() }), code, path);
      assert.equal(await consentCount(assent.db), before);
    });
  }

  test('the migration carries existing consents over: sweeping by their VRPType, and the account an authorised one pays from', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const sweeping = (await create(domesticVrpRequest())).Data.ConsentId;
    const commercial = (await create(commercialVrpRequest())).Data.ConsentId;
    await authoriseConsent(assent.db, postgresAccountDirectory(assent.db), {
      consentId: sweeping,
      clientId: pisp.tpp.clientId,
      customerId: customer.id,
      accountIds: [current.id],
      grantId: `grant-${crypto.randomUUID()}`,
    });
    const payingAccount = { scheme: 'sort_code_account', identification: current.identification };
    assert.deepEqual((await getConsent(assent.db, sweeping))?.payingAccount, payingAccount, 'authorising records the account paid from');

    await down(assent.db);
    const before = await assent.db.selectFrom('consent').select(['id', 'vrp']).where('id', 'in', [sweeping, commercial]).execute();
    assert.ok(
      before.every((row) => row.vrp !== null && !('purpose' in row.vrp)),
      'down takes the purpose away',
    );
    await up(assent.db);

    const [afterSweeping, afterCommercial] = await Promise.all([getConsent(assent.db, sweeping), getConsent(assent.db, commercial)]);
    assert.equal(afterSweeping?.vrp?.purpose, 'sweeping');
    assert.deepEqual(afterSweeping?.payingAccount, payingAccount, 'filled from the account the consent selected');
    assert.equal(afterCommercial?.vrp?.purpose, 'commercial');
    assert.equal(afterCommercial?.payingAccount, null, 'not authorised: nothing to fill');
  });
});

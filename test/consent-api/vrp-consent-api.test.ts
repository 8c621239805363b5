import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { type ApiResponse, ConsentApiClient, DOMESTIC_VRP, domesticVrpRequest, consentCount } from '../support/consent-api.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';

interface Envelope {
  Code: string;
  Errors: { ErrorCode: string; Message: string; Path?: string }[];
}
interface VrpBody {
  Data: {
    ConsentId: string;
    Status: string;
    ControlParameters: {
      MaximumIndividualAmount: { Amount: string };
      PeriodicLimits: { Amount: string; PeriodType: string }[];
      ValidToDateTime?: string;
    };
    Initiation: { CreditorAccount: { Name: string } };
  };
  Links: { Self: string };
}

function assertObError(response: ApiResponse, status: number, code: string, path?: string) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  const envelope = response.body as Envelope;
  const match = envelope.Errors.find((error) => error.ErrorCode === code && (path === undefined || error.Path === path));
  assert.ok(match, `expected ${code} at ${path ?? '(any path)'}, got ${JSON.stringify(envelope.Errors)}`);
}

const key = () => ({ 'x-idempotency-key': crypto.randomUUID() });

describe('UK OB domestic VRP consents', () => {
  const countConsents = () => consentCount(assent.db);

  const assent = useAssent();
  const pisp = useConsentApi(assent, useTpp(assent));
  const otherPisp = useConsentApi(assent, useTpp(assent, { auth: 'tls_client_auth' }));

  test('a sweeping VRP consent is created with its control parameters, read back and audited', async () => {
    const created = await pisp.call('POST', DOMESTIC_VRP, {
      body: domesticVrpRequest({ MaximumIndividualAmount: { Amount: '250', Currency: 'GBP' } }),
      headers: key(),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const body = created.body as VrpBody;
    assert.equal(body.Data.Status, 'AwaitingAuthorisation');
    assert.equal(body.Links.Self, `${assent.issuer}${DOMESTIC_VRP}/${body.Data.ConsentId}`);
    assert.equal(body.Data.ControlParameters.MaximumIndividualAmount.Amount, '250.00', 'amounts are answered in canonical two-digit form');
    assert.deepEqual(
      body.Data.ControlParameters.PeriodicLimits.map((limit) => [limit.Amount, limit.PeriodType]),
      [['1000.00', 'Month']],
    );
    assert.equal(body.Data.Initiation.CreditorAccount.Name, 'ACME Savings');

    const read = await pisp.call('GET', `${DOMESTIC_VRP}/${body.Data.ConsentId}`);
    assert.equal(read.status, 200);
    assert.deepEqual((read.body as VrpBody).Data, body.Data);
    const stored = await assent.db
      .selectFrom('consent')
      .select(['type', 'expires_at'])
      .where('id', '=', body.Data.ConsentId)
      .executeTakeFirstOrThrow();
    assert.equal(stored.type, 'domestic_vrp');
    assert.equal(stored.expires_at?.toISOString(), body.Data.ControlParameters.ValidToDateTime, 'the consent expires with ValidToDateTime');
    const history = await auditHistory(assent.db, 'consent', body.Data.ConsentId);
    assert.deepEqual(
      history.map((event) => event.event),
      ['consent.created'],
    );
  });

  test('the same idempotency key and body return the first consent; another body with it is refused', async () => {
    const headers = key();
    const body = domesticVrpRequest();
    const first = await pisp.call('POST', DOMESTIC_VRP, { body, headers });
    const again = await pisp.call('POST', DOMESTIC_VRP, { body, headers });
    assert.equal((again.body as VrpBody).Data.ConsentId, (first.body as VrpBody).Data.ConsentId);
    const countBefore = await countConsents();
    const other = await pisp.call('POST', DOMESTIC_VRP, {
      body: domesticVrpRequest({ MaximumIndividualAmount: { Amount: '10.00', Currency: 'GBP' } }),
      headers,
    });
    assertObError(other, 400, 'UK.OBIE.Header.Invalid', 'x-idempotency-key');
    assert.equal(await countConsents(), countBefore);
  });

  const invalid: [string, Record<string, unknown>, Record<string, unknown>, string, string][] = [
    [
      'a missing MaximumIndividualAmount',
      { MaximumIndividualAmount: undefined },
      {},
      'UK.OBIE.Field.Missing',
      'Data.ControlParameters.MaximumIndividualAmount',
    ],
    [
      'an unknown PeriodType',
      { PeriodicLimits: [{ Amount: '10.00', Currency: 'GBP', PeriodType: 'Quarter', PeriodAlignment: 'Consent' }] },
      {},
      'UK.OBIE.Field.Invalid',
      'Data.ControlParameters.PeriodicLimits[0].PeriodType',
    ],
    [
      'a calendar fortnight',
      { PeriodicLimits: [{ Amount: '10.00', Currency: 'GBP', PeriodType: 'Fortnight', PeriodAlignment: 'Calendar' }] },
      {},
      'UK.OBIE.Field.Invalid',
      'Data.ControlParameters.PeriodicLimits[0].PeriodAlignment',
    ],
    [
      'a limit in another currency',
      { PeriodicLimits: [{ Amount: '10.00', Currency: 'EUR', PeriodType: 'Day', PeriodAlignment: 'Consent' }] },
      {},
      'UK.OBIE.Field.Invalid',
      'Data.ControlParameters.PeriodicLimits[0].Currency',
    ],
    [
      'two limits of one period and alignment',
      {
        PeriodicLimits: [
          { Amount: '10.00', Currency: 'GBP', PeriodType: 'Day', PeriodAlignment: 'Consent' },
          { Amount: '20.00', Currency: 'GBP', PeriodType: 'Day', PeriodAlignment: 'Consent' },
        ],
      },
      {},
      'UK.OBIE.Field.Invalid',
      'Data.ControlParameters.PeriodicLimits[1]',
    ],
    ['no periodic limit', { PeriodicLimits: [] }, {}, 'UK.OBIE.Field.Invalid', 'Data.ControlParameters.PeriodicLimits'],
    [
      'an amount with three decimals',
      { MaximumIndividualAmount: { Amount: '1.005', Currency: 'GBP' } },
      {},
      'UK.OBIE.Field.Invalid',
      'Data.ControlParameters.MaximumIndividualAmount.Amount',
    ],
    [
      'a zero amount',
      { MaximumIndividualAmount: { Amount: '0.00', Currency: 'GBP' } },
      {},
      'UK.OBIE.Field.Invalid',
      'Data.ControlParameters.MaximumIndividualAmount.Amount',
    ],
    [
      'a number instead of a decimal string',
      { MaximumIndividualAmount: { Amount: 250, Currency: 'GBP' } },
      {},
      'UK.OBIE.Field.Invalid',
      'Data.ControlParameters.MaximumIndividualAmount.Amount',
    ],
    [
      'a ValidToDateTime in the past',
      { ValidToDateTime: '2020-01-01T00:00:00Z' },
      {},
      'UK.OBIE.Field.InvalidDate',
      'Data.ControlParameters.ValidToDateTime',
    ],
    [
      'ValidFrom after ValidTo',
      { ValidFromDateTime: '2099-02-01T00:00:00Z', ValidToDateTime: '2099-01-01T00:00:00Z' },
      {},
      'UK.OBIE.Field.InvalidDate',
      'Data.ControlParameters.ValidFromDateTime',
    ],
    ['an unknown VRPType', { VRPType: ['UK.OBIE.VRPType.Gambling'] }, {}, 'UK.OBIE.Field.Invalid', 'Data.ControlParameters.VRPType[0]'],
    [
      'no PSUAuthenticationMethods',
      { PSUAuthenticationMethods: [] },
      {},
      'UK.OBIE.Field.Invalid',
      'Data.ControlParameters.PSUAuthenticationMethods',
    ],
    [
      'a creditor without a name',
      {},
      { CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '08080021325699' } },
      'UK.OBIE.Field.Missing',
      'Data.Initiation.CreditorAccount.Name',
    ],
    [
      'a malformed creditor sort code',
      {},
      { CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '1234', Name: 'X' } },
      'UK.OBIE.Unsupported.AccountIdentifier',
      'Data.Initiation.CreditorAccount.Identification',
    ],
  ];
  for (const [what, controlParameters, initiation, code, path] of invalid) {
    test(`${what} is refused with ${code} and writes nothing`, async () => {
      const countBefore = await countConsents();
      const response = await pisp.call('POST', DOMESTIC_VRP, { body: domesticVrpRequest(controlParameters, initiation), headers: key() });
      assertObError(response, 400, code, path);
      assert.equal(await countConsents(), countBefore);
    });
  }

  test('an x-idempotency-key is required', async () => {
    assertObError(
      await pisp.call('POST', DOMESTIC_VRP, { body: domesticVrpRequest() }),
      400,
      'UK.OBIE.Header.Missing',
      'x-idempotency-key',
    );
  });

  test('a TPP token without the payments scope (not acting as a PISP) is refused', async () => {
    const aisp = await ConsentApiClient.create(assent, pisp.tpp, 'accounts');
    assertObError(
      await aisp.call('POST', DOMESTIC_VRP, { body: domesticVrpRequest(), headers: key() }),
      403,
      'UK.OBIE.Header.Invalid',
      'Authorization',
    );
  });

  test('another TPP cannot read or delete it; DELETE by its TPP withdraws it (Rejected)', async () => {
    const created = await pisp.call('POST', DOMESTIC_VRP, { body: domesticVrpRequest(), headers: key() });
    const id = (created.body as VrpBody).Data.ConsentId;
    assertObError(await otherPisp.call('GET', `${DOMESTIC_VRP}/${id}`), 404, 'UK.OBIE.Resource.NotFound');
    assertObError(await otherPisp.call('DELETE', `${DOMESTIC_VRP}/${id}`), 404, 'UK.OBIE.Resource.NotFound');
    const deleted = await pisp.call('DELETE', `${DOMESTIC_VRP}/${id}`);
    assert.equal(deleted.status, 204);
    assert.equal(((await pisp.call('GET', `${DOMESTIC_VRP}/${id}`)).body as VrpBody).Data.Status, 'Rejected');
  });
});

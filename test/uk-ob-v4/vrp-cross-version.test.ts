import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { auditHistory, verifyAuditChain } from '../../src/audit/audit-trail.ts';
import { domesticVrpResponseV4 } from '../../src/consent-api/vrp-v4-responses.ts';
import { getConsent } from '../../src/consents/consent-service.ts';
import { type ApiResponse, commercialVrpRequest, commercialVrpRequestV4, DOMESTIC_VRP, DOMESTIC_VRP_V4 } from '../support/consent-api.ts';
import { useAssent } from '../support/fixture.ts';
import { grantConsent } from '../support/granted-consents.ts';
import { refusal, useVrpPayments } from '../support/vrp-payments.ts';

interface V3Vrp {
  Data: { ConsentId: string; Status: string; ControlParameters: unknown; Initiation: { RemittanceInformation?: unknown } };
  Risk: Record<string, unknown>;
}
interface Accepted {
  Data: { Periods: { PeriodType: string; Paid: string; Remaining: string }[] };
}

const paidOf = (response: ApiResponse) => {
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return (response.body as Accepted).Data.Periods.map((period) => [period.PeriodType, period.Paid, period.Remaining]);
};

/**
 * One VRP consent, either version (issue 29): a domestic VRP consent keeps its ConsentId, audit chain,
 * grant, tokens and period counters whichever UK OB version reads or deletes it, and a commercial v4.0
 * mandate's limits hold under racing payments as a v3.1 one's do.
 */
describe('UK OB v3.1 and v4.0 on one VRP consent', () => {
  const assent = useAssent();
  const { pisp, bank, people, created, authorised, pay, ledger } = useVrpPayments(assent);

  test('a v3.1 VRP consent read through v4.0 keeps its tokens and counters; revoked through v4.0, its tokens and payments stop', async () => {
    const { consentId, tokens, dpop } = await grantConsent(assent, pisp.tpp, people.customer, {
      type: 'domestic_vrp',
      accounts: [people.current],
    });
    const { grantId } = (await getConsent(assent.db, consentId))!;
    assert.deepEqual(paidOf(await pay(consentId, '200.00')), [['Month', '200.00', '800.00']]);
    assert.deepEqual(paidOf(await pay(consentId, '250.00')), [['Month', '450.00', '550.00']]);
    const history = await auditHistory(assent.db, 'consent', consentId);

    // Read through v4.0: the same consent in v4.0's words; the read writes nothing and touches no token.
    const asV4 = await pisp.call('GET', `${DOMESTIC_VRP_V4}/${consentId}`);
    assert.equal(asV4.status, 200, JSON.stringify(asV4.body));
    const v4 = domesticVrpResponseV4.parse(asV4.body);
    const v3 = (await pisp.call('GET', `${DOMESTIC_VRP}/${consentId}`)).body as V3Vrp;
    assert.equal(v4.Data.ConsentId, consentId);
    assert.equal(v4.Data.Status, 'AUTH');
    assert.equal(v3.Data.Status, 'Authorised');
    assert.deepEqual(v4.Data.ControlParameters, v3.Data.ControlParameters, 'the same control parameters');
    assert.deepEqual(v3.Data.Initiation.RemittanceInformation, { Reference: 'SWEEP' });
    assert.deepEqual(v4.Data.Initiation.RemittanceInformation, { Structured: [{ CreditorReferenceInformation: { Reference: 'SWEEP' } }] });
    assert.deepEqual(await auditHistory(assent.db, 'consent', consentId), history, 'reading in v4.0 wrote nothing');
    const live = await bank.introspect(tokens.access_token);
    assert.equal(live.active, true, 'the token still introspects active after the v4.0 read');
    assert.equal(live.standard, 'uk_ob_v3', 'the version that created it');
    const refreshed = await oidc.refreshTokenGrant(pisp.tpp.config, tokens.refresh_token!, undefined, { DPoP: dpop });
    assert.equal((await bank.introspect(refreshed.access_token)).active, true);
    assert.equal((await getConsent(assent.db, consentId))!.grantId, grantId, 'the same grant');

    // The payments made before the read still count, and the limit still holds.
    assert.deepEqual(paidOf(await pay(consentId, '250.00')), [['Month', '700.00', '300.00']]);
    assert.deepEqual(paidOf(await pay(consentId, '250.00')), [['Month', '950.00', '50.00']]);
    const overLimit = refusal(await pay(consentId, '50.01'));
    assert.deepEqual(
      [overLimit.ErrorCode, overLimit.Path],
      ['UK.OBIE.Rules.FailsControlParameters', 'ControlParameters.PeriodicLimits[0]'],
    );

    // Deleted through v4.0: revoked with every token, by the TPP, on the same audit chain; payments stop.
    assert.equal((await pisp.call('DELETE', `${DOMESTIC_VRP_V4}/${consentId}`)).status, 204);
    assert.equal((await bank.introspect(tokens.access_token)).active, false);
    assert.equal((await bank.introspect(refreshed.access_token)).active, false, 'the token dies with the v4.0 DELETE');
    await assert.rejects(
      oidc.refreshTokenGrant(pisp.tpp.config, refreshed.refresh_token!, undefined, { DPoP: dpop }),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_grant',
    );
    assert.equal(refusal(await pay(consentId, '1.00')).Message, 'the consent is Revoked');
    assert.equal(domesticVrpResponseV4.parse((await pisp.call('GET', `${DOMESTIC_VRP_V4}/${consentId}`)).body).Data.Status, 'CANC');
    assert.equal(((await pisp.call('GET', `${DOMESTIC_VRP}/${consentId}`)).body as V3Vrp).Data.Status, 'Revoked');
    const events = await auditHistory(assent.db, 'consent', consentId);
    assert.deepEqual(
      events.filter((event) => event.event.startsWith('consent.')).map((event) => [event.event, event.actor.kind]),
      [
        ['consent.created', 'tpp'],
        ['consent.authorised', 'customer'],
        ['consent.revoked', 'tpp'],
      ],
    );
    assert.equal(events.filter((event) => event.event === 'vrp.payment.accepted').length, 4);
    assert.deepEqual(await verifyAuditChain(assent.db, 'consent', consentId), { valid: true, length: events.length });
    const row = await assent.db
      .selectFrom('consent')
      .select(['standard', 'ended_by'])
      .where('id', '=', consentId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { standard: 'uk_ob_v3', ended_by: 'tpp' }, 'reading and deleting in v4.0 leave its version as it was');
  });

  test('a v4.0 VRP consent read and revoked through v3.1 keeps its tokens and counters until the DELETE', async () => {
    const { consentId, tokens } = await grantConsent(assent, pisp.tpp, people.customer, {
      type: 'domestic_vrp',
      accounts: [people.current],
      version: 'v4.0',
    });
    assert.deepEqual(paidOf(await pay(consentId, '100.00')), [['Month', '100.00', '900.00']]);
    const history = await auditHistory(assent.db, 'consent', consentId);
    const v3 = (await pisp.call('GET', `${DOMESTIC_VRP}/${consentId}`)).body as V3Vrp;
    assert.equal(v3.Data.Status, 'Authorised');
    assert.deepEqual(v3.Data.Initiation.RemittanceInformation, { Reference: 'SWEEP', Unstructured: 'Monthly sweep to savings' });
    assert.deepEqual(await auditHistory(assent.db, 'consent', consentId), history, 'reading in v3.1 wrote nothing');
    assert.equal((await bank.introspect(tokens.access_token)).active, true);
    assert.deepEqual(paidOf(await pay(consentId, '100.00')), [['Month', '200.00', '800.00']]);

    assert.equal((await pisp.call('DELETE', `${DOMESTIC_VRP}/${consentId}`)).status, 204);
    assert.equal((await bank.introspect(tokens.access_token)).active, false);
    assert.equal(domesticVrpResponseV4.parse((await pisp.call('GET', `${DOMESTIC_VRP_V4}/${consentId}`)).body).Data.Status, 'CANC');
    assert.equal(refusal(await pay(consentId, '1.00')).Message, 'the consent is Revoked');
    assert.equal((await getConsent(assent.db, consentId))?.standard, 'uk_ob_v4');
  });

  test("a v3.1 commercial mandate reads in v4.0 with v4.0's indicator name, and without a context v4.0 has no code for", async () => {
    const billing = await created(commercialVrpRequest());
    const v4 = domesticVrpResponseV4.parse((await pisp.call('GET', `${DOMESTIC_VRP_V4}/${billing}`)).body);
    assert.deepEqual(v4.Risk, {
      PaymentContextCode: 'BillingGoodsAndServicesInAdvance',
      MerchantCategoryCode: '5815',
      MerchantCustomerIdentification: 'CUST-0042',
      ContractPresentIndicator: true,
      BeneficiaryPrepopulatedIndicator: true,
    });
    const v3 = (await pisp.call('GET', `${DOMESTIC_VRP}/${billing}`)).body as V3Vrp;
    assert.equal(v3.Risk.ContractPresentInidicator, true, 'v3.1 still answers what it was sent');

    const payee = await created(commercialVrpRequest({}, { PaymentContextCode: 'PispPayee' }));
    const risk = domesticVrpResponseV4.parse((await pisp.call('GET', `${DOMESTIC_VRP_V4}/${payee}`)).body).Risk;
    assert.equal(risk.PaymentContextCode, undefined, 'PispPayee has no v4.0 code');
    assert.equal(risk.MerchantCategoryCode, '5815');
    assert.equal((await getConsent(assent.db, payee))?.vrp?.merchant?.context, 'pisp_payee', 'the model keeps what was sent');
  });

  test('64 racing payments against a v4.0 off-session cVRP with a £100 daily limit: the 32 in session are refused, exactly 11 of the 32 of £9 are accepted', async () => {
    const consentId = await authorised(
      commercialVrpRequestV4({
        PeriodicLimits: [
          { Amount: '100.00', Currency: 'GBP', PeriodType: 'Day', PeriodAlignment: 'Calendar' },
          { Amount: '250.00', Currency: 'GBP', PeriodType: 'Month', PeriodAlignment: 'Calendar' },
        ],
      }),
      DOMESTIC_VRP_V4,
    );
    assert.equal((await getConsent(assent.db, consentId))?.standard, 'uk_ob_v4');
    const responses = await Promise.all(
      Array.from({ length: 64 }, (_, index) => pay(consentId, '9.00', { interaction: index % 2 === 0 ? 'InSession' : undefined })),
    );
    for (const response of responses.filter((_, index) => index % 2 === 0))
      assert.equal(refusal(response).Path, 'ControlParameters.PSUInteractionTypes');
    const offSession = responses.filter((_, index) => index % 2 === 1);
    const accepted = offSession.filter((response) => response.status === 201);
    assert.equal(accepted.length, 11, '11 × £9 = £99 fits in £100; a 12th would not');
    for (const response of offSession.filter((candidate) => candidate.status !== 201)) {
      const error = refusal(response);
      assert.deepEqual([error.ErrorCode, error.Path], ['UK.OBIE.Rules.FailsControlParameters', 'ControlParameters.PeriodicLimits[0]']);
    }
    const remaining = accepted.map((response) => (response.body as Accepted).Data.Periods[0]!.Remaining);
    assert.equal(new Set(remaining).size, 11, 'each acceptance saw a different remainder: decided one at a time');

    const rows = await ledger(consentId);
    const paid = rows.filter((row) => row.outcome === 'accepted').reduce((sum, row) => sum + BigInt(row.amount.replace('.', '')), 0n);
    assert.equal(paid, 9900n, '£99.00 paid, never more than the daily limit');
    assert.equal(rows.length, 64, 'every decision is in the ledger');
    const events = (await auditHistory(assent.db, 'consent', consentId)).map((event) => event.event);
    assert.equal(events.filter((event) => event === 'vrp.payment.accepted').length, 11);
    assert.deepEqual(await verifyAuditChain(assent.db, 'consent', consentId), { valid: true, length: events.length });
  });
});

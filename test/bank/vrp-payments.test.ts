import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auditHistory, verifyAuditChain } from '../../src/audit/audit-trail.ts';
import { revokeConsent } from '../../src/consents/consent-service.ts';
import { decideVrpPayment } from '../../src/consents/vrp/vrp-payment-service.ts';
import { connectDatabase } from '../../src/db/connect.ts';
import { type ApiResponse, DOMESTIC_PAYMENT, DOMESTIC_VRP, domesticPaymentRequest, domesticVrpRequest } from '../support/consent-api.ts';
import { useAssent } from '../support/fixture.ts';
import { refusal, useVrpPayments } from '../support/vrp-payments.ts';

interface Accepted {
  Data: {
    PaymentId: string;
    Status: string;
    InstructedAmount: { Amount: string };
    Periods: { PeriodType: string; Paid: string; Remaining: string; Limit: string }[];
  };
}

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
const MONTHLY_1000 = { PeriodicLimits: [{ Amount: '1000.00', Currency: 'GBP', PeriodType: 'Month', PeriodAlignment: 'Consent' }] };

describe('payments under a VRP consent (bank API)', () => {
  const assent = useAssent();
  const { pisp, bank, people, created, authorised, pay, ledger } = useVrpPayments(assent);
  const createVrp = (controlParameters: Record<string, unknown> = {}) => created(domesticVrpRequest(controlParameters));
  const authorisedVrp = (controlParameters: Record<string, unknown> = {}) => authorised(domesticVrpRequest(controlParameters));

  test('64 concurrent payments against a £1,000 monthly limit: exactly the 33 of £30 that fit are accepted', async () => {
    const consentId = await authorisedVrp(MONTHLY_1000);
    const responses = await Promise.all(Array.from({ length: 64 }, () => pay(consentId, '30.00')));
    const accepted = responses.filter((response) => response.status === 201);
    const refused = responses.filter((response) => response.status !== 201);
    assert.equal(accepted.length, 33);
    assert.equal(refused.length, 31);
    for (const response of refused) {
      const error = refusal(response);
      assert.equal(error.ErrorCode, 'UK.OBIE.Rules.FailsControlParameters');
      assert.equal(error.Path, 'ControlParameters.PeriodicLimits[0]', 'the refusal names the monthly limit');
      assert.match(error.Message, /Month limit \(Consent alignment\) of 1000\.00 GBP/);
    }
    const remaining = accepted.map((response) => (response.body as Accepted).Data.Periods[0]!.Remaining).toSorted();
    assert.equal(new Set(remaining).size, 33, 'every acceptance saw a different remainder: they were decided one at a time');
    assert.ok(remaining.includes('10.00'));

    const rows = await ledger(consentId);
    assert.equal(rows.filter((row) => row.outcome === 'accepted').length, 33);
    const paid = rows.filter((row) => row.outcome === 'accepted').reduce((sum, row) => sum + BigInt(row.amount.replace('.', '')), 0n);
    assert.equal(paid, 99000n, '£990.00 paid, never more than the limit');
    const events = (await auditHistory(assent.db, 'consent', consentId)).map((event) => event.event);
    assert.equal(events.filter((event) => event === 'vrp.payment.accepted').length, 33);
    assert.equal(events.filter((event) => event === 'vrp.payment.refused').length, 31);
    assert.deepEqual(
      await verifyAuditChain(assent.db, 'consent', consentId),
      { valid: true, length: events.length },
      'the racing decisions left an unbroken chain',
    );
  });

  test('two instances (separate connection pools) racing on one consent still accept exactly what fits', async () => {
    const consentId = await authorisedVrp({
      PeriodicLimits: [{ Amount: '100.00', Currency: 'GBP', PeriodType: 'Week', PeriodAlignment: 'Calendar' }],
    });
    const instances = [assent.db, await connectDatabase({ databaseUrl: assent.databaseUrl, dataDir: assent.dataDir })];
    try {
      const decisions = await Promise.all(
        Array.from({ length: 64 }, (_, index) =>
          decideVrpPayment(instances[index % 2]!, {
            consentId,
            idempotencyKey: `race-${index}`,
            amount: '7.00',
            currency: 'GBP',
            actor: { kind: 'resource_server', id: bank.clientId },
          }),
        ),
      );
      assert.equal(
        decisions.filter((decision) => decision.answer.outcome === 'accepted').length,
        14,
        '14 × £7 = £98 fits in £100; a 15th would not',
      );
    } finally {
      await instances[1]!.destroy();
    }
  });

  test('a repeated idempotency key gets the first answer and counts once, even when the repeats race', async () => {
    const consentId = await authorisedVrp();
    const key = crypto.randomUUID();
    const responses = await Promise.all(Array.from({ length: 16 }, () => pay(consentId, '100.00', { key })));
    assert.ok(responses.every((response) => response.status === 201));
    const ids = new Set(responses.map((response) => (response.body as Accepted).Data.PaymentId));
    assert.equal(ids.size, 1, 'one payment, answered sixteen times');
    assert.equal(responses.filter((response) => response.headers.get('x-idempotent-replay') === 'true').length, 15);
    assert.equal((await ledger(consentId)).length, 1);
    const next = await pay(consentId, '1.00');
    assert.equal((next.body as Accepted).Data.Periods[0]!.Paid, '101.00', 'the repeated key counted once');

    const reused = await pay(consentId, '5.00', { key });
    assert.equal(refusal(reused).ErrorCode, 'UK.OBIE.Header.Invalid');
    assert.equal(refusal(reused).Path, 'x-idempotency-key');

    const refusedKey = crypto.randomUUID();
    const first = await pay(consentId, '300.00', { key: refusedKey });
    const again = await pay(consentId, '300.00', { key: refusedKey });
    assert.deepEqual(refusal(again), refusal(first), 'a refusal is the first answer too');
    assert.equal((await ledger(consentId)).length, 3);
  });

  test('the individual limit, the currency and the start of validity are each refused by name', async () => {
    const consentId = await authorisedVrp();
    const tooMuch = refusal(await pay(consentId, '250.01'));
    assert.deepEqual(
      [tooMuch.ErrorCode, tooMuch.Path],
      ['UK.OBIE.Rules.FailsControlParameters', 'ControlParameters.MaximumIndividualAmount'],
    );
    assert.match(tooMuch.Message, /250\.01 GBP exceeds the maximum individual amount of 250\.00 GBP/);
    const euros = refusal(await pay(consentId, '10.00', { currency: 'EUR' }));
    assert.equal(euros.Path, 'ControlParameters.MaximumIndividualAmount.Currency');
    assert.equal((await pay(consentId, '250.00')).status, 201, 'exactly the maximum is allowed');

    const later = await authorisedVrp({ ValidFromDateTime: inDays(2) });
    assert.equal(refusal(await pay(later, '1.00')).Path, 'ControlParameters.ValidFromDateTime');
  });

  test('every periodic limit counts: a daily limit refuses before the monthly one', async () => {
    const consentId = await authorisedVrp({
      PeriodicLimits: [
        { Amount: '1000.00', Currency: 'GBP', PeriodType: 'Month', PeriodAlignment: 'Calendar' },
        { Amount: '300.00', Currency: 'GBP', PeriodType: 'Day', PeriodAlignment: 'Consent' },
      ],
    });
    assert.equal((await pay(consentId, '200.00')).status, 201);
    const error = refusal(await pay(consentId, '100.01'));
    assert.equal(error.Path, 'ControlParameters.PeriodicLimits[1]');
    const accepted = (await pay(consentId, '100.00')).body as Accepted;
    assert.deepEqual(
      accepted.Data.Periods.map((period) => [period.PeriodType, period.Remaining]),
      [
        ['Month', '700.00'],
        ['Day', '0.00'],
      ],
    );
  });

  test('a consent not yet authorised, or past its ValidToDateTime, refuses with InvalidConsentStatus', async () => {
    const waiting = await createVrp();
    assert.deepEqual(
      [refusal(await pay(waiting, '1.00')).ErrorCode, refusal(await pay(waiting, '1.00')).Message],
      ['UK.OBIE.Resource.InvalidConsentStatus', 'the consent is AwaitingAuthorisation'],
    );
    const ended = await authorisedVrp();
    assert.equal((await pay(ended, '1.00')).status, 201);
    // ValidToDateTime passes (the expiry sweep has not run yet): the consent reads Expired at once.
    await assent.db
      .updateTable('consent')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', ended)
      .execute();
    assert.deepEqual(
      [refusal(await pay(ended, '1.00')).ErrorCode, refusal(await pay(ended, '1.00')).Message],
      ['UK.OBIE.Resource.InvalidConsentStatus', 'the consent is Expired'],
    );
  });

  test('the bank reads a VRP consent with its control parameters', async () => {
    const consentId = await authorisedVrp(MONTHLY_1000);
    const read = await bank.call('GET', `/bank/consents/${consentId}`);
    assert.equal(read.status, 200);
    const data = (
      read.body as {
        Data: {
          ConsentType: string;
          ControlParameters: { PeriodicLimits: unknown[] };
          VrpInitiation: { CreditorAccount: { Name: string } };
        };
      }
    ).Data;
    assert.equal(data.ConsentType, 'domestic_vrp');
    assert.deepEqual(data.ControlParameters.PeriodicLimits, MONTHLY_1000.PeriodicLimits);
    assert.equal(data.VrpInitiation.CreditorAccount.Name, 'ACME Savings');
  });

  test('revocation mid-stream stops payments at once: nothing is accepted after it commits', async () => {
    const consentId = await authorisedVrp({ MaximumIndividualAmount: { Amount: '1.00', Currency: 'GBP' } });
    const responses: ApiResponse[] = [];
    // Four payers keep paying £1 until they are refused, then try twice more.
    const payer = async () => {
      let afterRefusal = 0;
      while (afterRefusal < 3) {
        const response = await pay(consentId, '1.00');
        responses.push(response);
        if (response.status !== 201) afterRefusal += 1;
      }
    };
    const payers = Array.from({ length: 4 }, payer);
    while ((await ledger(consentId)).filter((row) => row.outcome === 'accepted').length < 8)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const revoked = await revokeConsent(assent.db, { consentId, actor: { kind: 'customer', id: people.customer.id } });
    await Promise.all(payers);

    const rows = await ledger(consentId);
    const accepted = rows.filter((row) => row.outcome === 'accepted');
    assert.ok(
      accepted.length >= 8 && rows.length > accepted.length,
      `payments were accepted before and refused after (${accepted.length} of ${rows.length})`,
    );
    assert.ok(
      accepted.every((row) => row.created_at <= revoked.statusUpdatedAt),
      'no payment was accepted after the revocation committed',
    );
    assert.ok(rows.filter((row) => row.outcome === 'refused').every((row) => row.created_at >= revoked.statusUpdatedAt));
    for (const response of responses.filter((r) => r.status !== 201)) assert.equal(refusal(response).Message, 'the consent is Revoked');
    assert.equal(refusal(await pay(consentId, '1.00')).ErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus');
  });

  test('bad input is refused at the edge and writes nothing; unknown and non-VRP consents are not found', async () => {
    const consentId = await authorisedVrp();
    for (const amount of ['0.00', '1.005', '-1.00', 'ten'])
      assert.equal(refusal(await pay(consentId, amount)).ErrorCode, 'UK.OBIE.Field.Invalid', amount);
    const noKey = await bank.call('POST', `/bank/vrp-consents/${consentId}/payments`, {
      body: { Data: { InstructedAmount: { Amount: '1.00', Currency: 'GBP' } } },
    });
    assert.equal(refusal(noKey).ErrorCode, 'UK.OBIE.Header.Missing');
    assert.equal((await ledger(consentId)).length, 0);
    assert.equal((await pay(crypto.randomUUID(), '1.00')).status, 404);
    assert.equal((await pay('not-a-uuid', '1.00')).status, 404);
    const payment = await pisp.call('POST', DOMESTIC_PAYMENT, {
      body: domesticPaymentRequest(),
      headers: { 'x-idempotency-key': crypto.randomUUID() },
    });
    assert.equal((await pay((payment.body as { Data: { ConsentId: string } }).Data.ConsentId, '1.00')).status, 404);
  });

  test('hostile input (a NUL in the body or path, JSON nested too deep) is refused by the edge check before the route, and records nothing', async () => {
    const consentId = await authorisedVrp();
    const path = `/bank/vrp-consents/${consentId}/payments`;
    const headers = { 'x-idempotency-key': crypto.randomUUID() };
    const nul = await bank.call('POST', path, {
      body: '{"Data":{"InstructedAmount":{"Amount":"10.00","Currency":"GBP\\u0000"}}}',
      headers,
    });
    assert.match(refusal(nul).Message, /NUL character/, 'the edge names the NUL, not the currency rule');
    const deep = await bank.call('POST', path, {
      body: `{"Data":{"InstructedAmount":{"Amount":"10.00","Currency":"GBP"}},"x":${'['.repeat(40)}${']'.repeat(40)}}`,
      headers,
    });
    assert.match(refusal(deep).Message, /nested deeper/);
    const inPath = await bank.call('POST', `/bank/vrp-consents/${consentId}%00/payments`, {
      body: { Data: { InstructedAmount: { Amount: '10.00', Currency: 'GBP' } } },
      headers,
    });
    assert.match(refusal(inPath).Message, /NUL character/);
    assert.equal((await ledger(consentId)).length, 0);
    const consent = await pisp.call('POST', DOMESTIC_VRP, {
      body: domesticVrpRequest({}, { RemittanceInformation: { Reference: 'SWEEP\u0000' } }),
      headers: { 'x-idempotency-key': crypto.randomUUID() },
    });
    assert.match(refusal(consent).Message, /NUL character/, 'the consent API refuses it at the edge too');
  });

  test("a TPP cannot call the payments route: it is for the bank's resource servers", async () => {
    const consentId = await authorisedVrp();
    const response = await pisp.call('POST', `/bank/vrp-consents/${consentId}/payments`, {
      body: { Data: { InstructedAmount: { Amount: '1.00', Currency: 'GBP' } } },
      headers: { 'x-idempotency-key': crypto.randomUUID() },
    });
    assert.equal(response.status, 403);
    assert.equal((await ledger(consentId)).length, 0);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auditHistory, verifyAuditChain } from '../../src/audit/audit-trail.ts';
import { AccountSelectionInvalid } from '../../src/consents/consent-errors.ts';
import { authoriseConsent, getConsent } from '../../src/consents/consent-service.ts';
import { postgresAccountDirectory } from '../../src/customers/account-directory.ts';
import { commercialVrpRequest, DOMESTIC_VRP, domesticVrpRequest } from '../support/consent-api.ts';
import { useAssent } from '../support/fixture.ts';
import { refusal, useVrpPayments } from '../support/vrp-payments.ts';

interface Accepted {
  Data: { Periods: { PeriodType: string; Remaining: string }[] };
}

describe('payments under a commercial VRP mandate, and the sweeping account that is never paid into itself (bank API)', () => {
  const assent = useAssent();
  const { pisp, bank, people, authorised, pay, ledger } = useVrpPayments(assent);

  test('64 racing payments against an off-session cVRP with a £100 daily limit: the 32 in session are refused, exactly 11 of the 32 of £9 are accepted', async () => {
    const consentId = await authorised(
      commercialVrpRequest({
        PeriodicLimits: [
          { Amount: '100.00', Currency: 'GBP', PeriodType: 'Day', PeriodAlignment: 'Calendar' },
          { Amount: '250.00', Currency: 'GBP', PeriodType: 'Month', PeriodAlignment: 'Calendar' },
        ],
      }),
    );
    const responses = await Promise.all(
      Array.from({ length: 64 }, (_, index) => pay(consentId, '9.00', { interaction: index % 2 === 0 ? 'InSession' : undefined })),
    );
    const inSession = responses.filter((_, index) => index % 2 === 0);
    const offSession = responses.filter((_, index) => index % 2 === 1);
    for (const response of inSession) {
      const error = refusal(response);
      assert.equal(error.Path, 'ControlParameters.PSUInteractionTypes');
      assert.equal(error.Message, 'the consent does not allow InSession payments');
    }
    const accepted = offSession.filter((response) => response.status === 201);
    assert.equal(accepted.length, 11);
    for (const refused of offSession.filter((response) => response.status !== 201)) {
      const error = refusal(refused);
      assert.equal(error.ErrorCode, 'UK.OBIE.Rules.FailsControlParameters');
      assert.equal(error.Path, 'ControlParameters.PeriodicLimits[0]', 'the daily limit refuses the twelfth');
    }
    const remaining = accepted.map((response) => (response.body as Accepted).Data.Periods[0]!.Remaining);
    assert.equal(new Set(remaining).size, 11, 'each acceptance saw a different remainder: decided one at a time');
    assert.ok(remaining.includes('1.00'));

    const rows = await ledger(consentId);
    const paid = rows.filter((row) => row.outcome === 'accepted').reduce((sum, row) => sum + BigInt(row.amount.replace('.', '')), 0n);
    assert.equal(paid, 9900n, '£99.00 paid, never more than the daily limit');
    assert.equal(rows.filter((row) => row.outcome === 'refused').length, 53);
    const events = (await auditHistory(assent.db, 'consent', consentId)).map((event) => event.event);
    assert.equal(events.filter((event) => event === 'vrp.payment.accepted').length, 11);
    assert.deepEqual(await verifyAuditChain(assent.db, 'consent', consentId), { valid: true, length: events.length });
  });

  test('the bank reads a cVRP consent with its purpose, its merchant and the account it pays from', async () => {
    const consentId = await authorised(commercialVrpRequest());
    const read = await bank.call('GET', `/bank/consents/${consentId}`);
    assert.equal(read.status, 200);
    const data = (read.body as { Data: Record<string, unknown> }).Data;
    assert.equal(data.VrpPurpose, 'commercial');
    assert.deepEqual(data.Merchant, {
      name: 'Acme Streaming',
      categoryCode: '5815',
      customerReference: 'CUST-0042',
      context: 'billing_in_advance',
      contractWithTpp: true,
      payeePrefilled: true,
    });
    assert.deepEqual(data.PayingAccount, { scheme: 'sort_code_account', identification: people.current.identification });
  });

  test('a consent that allows payments in session accepts them, and one without PSUInteractionTypes takes them as OffSession', async () => {
    const both = await authorised(commercialVrpRequest({ PSUInteractionTypes: ['InSession', 'OffSession'] }));
    assert.equal((await pay(both, '5.00', { interaction: 'InSession' })).status, 201);
    assert.equal((await pay(both, '5.00', { interaction: 'OffSession' })).status, 201);
    const sweeping = await authorised(domesticVrpRequest());
    assert.equal((await pay(sweeping, '5.00')).status, 201);
    assert.equal(refusal(await pay(sweeping, '5.00', { interaction: 'InSession' })).Path, 'ControlParameters.PSUInteractionTypes');
  });

  test("the bank's decision is the last line: a sweeping consent whose paying account is the account swept into pays nothing", async () => {
    const consentId = await authorised(domesticVrpRequest());
    assert.deepEqual((await getConsent(assent.db, consentId))?.payingAccount, {
      scheme: 'sort_code_account',
      identification: people.current.identification,
    });
    // What the pages and the consent service never let through (the test below): as if the paying
    // account now were the creditor, 08080021325699 (test/support/consent-api.ts).
    await assent.db
      .updateTable('consent')
      .set({ paying_account: JSON.stringify({ scheme: 'sort_code_account', identification: '08080021325699' }) })
      .where('id', '=', consentId)
      .execute();
    const error = refusal(await pay(consentId, '1.00'));
    assert.equal(error.ErrorCode, 'UK.OBIE.Rules.FailsControlParameters');
    assert.equal(error.Path, 'Initiation.CreditorAccount');
    assert.match(error.Message, /the account paid from is the account swept into/);
    assert.deepEqual(
      (await ledger(consentId)).map((row) => row.outcome),
      ['refused'],
    );
  });

  test('authorising a sweeping consent with the account it sweeps into is refused by the consent service, naming why', async () => {
    const created = await pisp.call('POST', DOMESTIC_VRP, {
      body: domesticVrpRequest(
        {},
        { CreditorAccount: { SchemeName: people.savings.schemeName, Identification: people.savings.identification, Name: 'Saver' } },
      ),
      headers: { 'x-idempotency-key': crypto.randomUUID() },
    });
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    await assert.rejects(
      authoriseConsent(assent.db, postgresAccountDirectory(assent.db), {
        consentId,
        clientId: pisp.tpp.clientId,
        customerId: people.customer.id,
        accountIds: [people.savings.id],
        grantId: 'grant-never-saved',
      }),
      (error: unknown) => error instanceof AccountSelectionInvalid && error.paysIntoItself && /swept into/.test(error.message),
    );
    const consent = await getConsent(assent.db, consentId);
    assert.equal(consent?.status, 'AwaitingAuthorisation');
    assert.equal(consent?.payingAccount, null);
  });
});

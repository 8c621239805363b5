import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { csrfTokenOf, signInToDashboard, pageText as text } from '../support/dashboard.ts';
import { customerWithAccounts, grantConsent } from '../support/granted-consents.ts';
import { useAssent, useResourceServer, useTpp } from '../support/fixture.ts';

describe('a VRP consent on the dashboard: limits, what has been paid, revocation that stops payments', () => {
  const assent = useAssent();
  const sweeper = useTpp(assent, { metadata: { client_name: 'Sweepy' } });
  const bank = useResourceServer(assent);

  const pay = (consentId: string, amount: string) =>
    bank.call('POST', `/bank/vrp-consents/${consentId}/payments`, {
      body: { Data: { InstructedAmount: { Amount: amount, Currency: 'GBP' } } },
      headers: { 'x-idempotency-key': crypto.randomUUID() },
    });

  test("the detail page states the limits and this period's payments; revoking it refuses the next payment", async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const granted = await grantConsent(assent, sweeper, customer, {
      type: 'domestic_vrp',
      accounts: [current],
      vrp: { ValidToDateTime: '2027-06-30T22:59:59Z' },
    });
    assert.equal((await pay(granted.consentId, '200.00')).status, 201);
    assert.equal((await pay(granted.consentId, '250.00')).status, 201);

    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const { home } = await signInToDashboard(browser, assent.issuer, customer);
    assert.match(text(home), /Sweepy Make payments within limits/);
    const open = (path: string, form?: Record<string, string>) => browser.open(new URL(path, assent.issuer), form ? { form } : {});

    const detail = await open(`/dashboard/consents/${granted.consentId}`);
    const shown = text(detail);
    assert.match(shown, /Payments up to £250 a payment, at most £1,000 a calendar month, until 30 June 2027, to ACME Savings\./);
    assert.match(shown, /This month \( ?1 \w+ \d{4} – \d{1,2} \w+ \d{4} ?\) £450\.00 £550\.00 £1,000\.00/);
    assert.match(shown, /Sweepy made a payment/);

    const confirm = await open(`/dashboard/consents/${granted.consentId}/revoke`);
    const receipt = await open(`/dashboard/consents/${granted.consentId}/revoke`, { csrf_token: csrfTokenOf(confirm) });
    assert.equal(receipt.url.pathname, `/dashboard/consents/${granted.consentId}/receipt`);

    const refused = await pay(granted.consentId, '1.00');
    assert.equal(refused.status, 400);
    assert.deepEqual(
      (refused.body as { Errors: { ErrorCode: string; Message: string }[] }).Errors.map((error) => [error.ErrorCode, error.Message]),
      [['UK.OBIE.Resource.InvalidConsentStatus', 'the consent is Revoked']],
    );
    const afterRevocation = text(await open(`/dashboard/consents/${granted.consentId}`));
    assert.match(afterRevocation, /£450\.00/, 'what was paid stays visible after revocation');
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { vrpFundsConfirmationResponse } from '../../src/consent-api/vrp-funds-confirmation.ts';
import { setAvailableBalance } from '../../src/customers/account-directory.ts';
import { tlsAgent } from '../support/assent.ts';
import { type ApiResponse, callProtectedResource, DOMESTIC_VRP, domesticVrpRequest } from '../support/consent-api.ts';
import { CustomerAgent, type Page } from '../support/customer-agent.ts';
import { oneTimeCode } from '../support/customers.ts';
import { customerWithAccounts } from '../support/granted-consents.ts';
import { pushAuthorizationRequest } from '../support/tpp.ts';
import { useAssent, useConsentApi, useResourceServer, useTpp } from '../support/fixture.ts';

const VALID_TO = '2027-06-30T22:59:59.000Z';
const LIMITS_SENTENCE = 'up to £250 a payment, at most £1,000 a calendar month, until 30 June 2027, to ACME Savings';

interface Period {
  PeriodType: string;
  Limit: string;
  Paid: string;
  Remaining: string;
}

describe('a sweeping VRP consent end to end: API, SCA with dynamic linking, tokens, introspection, payments, funds, revocation', () => {
  const assent = useAssent();
  const tpp = useTpp(assent);
  const api = useConsentApi(assent, tpp);
  const bank = useResourceServer(assent);

  async function createConsent(): Promise<string> {
    const created = await api.call('POST', DOMESTIC_VRP, {
      body: domesticVrpRequest({ ValidToDateTime: VALID_TO }),
      headers: { 'x-idempotency-key': crypto.randomUUID() },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
  }

  /** PAR with a domestic_vrp authorization_details entry, then password and code: the code page, the consent page. */
  async function signIn(consentId: string, people: Awaited<ReturnType<typeof customerWithAccounts>>) {
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const request = await pushAuthorizationRequest(
      tpp,
      { scope: 'openid payments', authorization_details: JSON.stringify([{ type: 'domestic_vrp', consent_id: consentId }]) },
      { DPoP: dpop },
    );
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const login = await browser.open(request.url);
    const codePage = await browser.submit(login, 'login', { username: people.customer.username, password: people.customer.password });
    return { dpop, request, browser, codePage };
  }

  const pay = (consentId: string, amount: string) =>
    bank.call('POST', `/bank/vrp-consents/${consentId}/payments`, {
      body: { Data: { InstructedAmount: { Amount: amount, Currency: 'GBP' } } },
      headers: { 'x-idempotency-key': crypto.randomUUID() },
    });

  function fundsConfirmation(
    consentId: string,
    accessToken: string,
    dpop: oidc.DPoPHandle,
    amount: string,
    bodyConsentId = consentId,
  ): Promise<ApiResponse> {
    const url = new URL(`${DOMESTIC_VRP}/${consentId}/funds-confirmation`, assent.issuer);
    const body = JSON.stringify({
      Data: { ConsentId: bodyConsentId, Reference: 'SWEEP', InstructedAmount: { Amount: amount, Currency: 'GBP' } },
    });
    return callProtectedResource(tpp.config, accessToken, url, 'POST', {
      body,
      headers: new Headers({ 'content-type': 'application/json' }),
      dpop,
    });
  }

  test('the customer approves limits stated in plain words; the bank pays within them; introspection shows what remains', async () => {
    const people = await customerWithAccounts(assent);
    const consentId = await createConsent();
    const { dpop, request, browser, codePage } = await signIn(consentId, people);

    assert.ok(codePage.body.includes(LIMITS_SENTENCE), 'the one-time-code page states the limits the code approves');
    assert.match(codePage.body, /name="payment_digest" value="[\w-]{43}"/, 'the code is linked to what the page shows');
    const consentPage: Page = await browser.submit(codePage, 'otp', { code: await oneTimeCode(people.customer) });
    assert.ok(consentPage.body.includes(LIMITS_SENTENCE), `the consent page states the limits: ${consentPage.body.slice(0, 2000)}`);
    assert.ok(consentPage.body.includes('Choose the account to pay from'));

    const callback = await browser.submit(consentPage, 'confirm', { account: people.current.id });
    assert.ok(callback.url.href.startsWith(tpp.redirectUri), `back at the TPP: ${callback.url}`);
    const tokens = await oidc.authorizationCodeGrant(
      tpp.config,
      callback.url,
      { pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce, idTokenExpected: true },
      undefined,
      { DPoP: dpop },
    );
    const authorised = (await auditHistory(assent.db, 'consent', consentId)).find((event) => event.event === 'consent.authorised');
    assert.match(String(authorised?.details.approvalDigest), /^[\w-]{43}$/, 'the approval digest is audited');

    const fresh = await bank.introspect(tokens.access_token);
    assert.equal(fresh.active, true);
    assert.equal(fresh.consent_type, 'domestic_vrp');
    assert.deepEqual((fresh.control_parameters as { MaximumIndividualAmount: unknown }).MaximumIndividualAmount, {
      Amount: '250.00',
      Currency: 'GBP',
    });
    const freshPeriods = (fresh.authorization_details as unknown as { periods: Period[] }[])[0]!.periods;
    assert.deepEqual(
      freshPeriods.map((period) => [period.PeriodType, period.Limit, period.Paid, period.Remaining]),
      [['Month', '1000.00', '0.00', '1000.00']],
    );

    assert.equal((await pay(consentId, '200.00')).status, 201);
    assert.equal((await pay(consentId, '250.00')).status, 201);
    const later = await bank.introspect(tokens.access_token);
    const periods = (later.authorization_details as unknown as { periods: Period[] }[])[0]!.periods;
    assert.deepEqual(
      periods.map((period) => [period.Paid, period.Remaining]),
      [['450.00', '550.00']],
      'introspection reads the ledger live',
    );

    await setAvailableBalance(assent.db, people.current.id, '500.00');
    const available = await fundsConfirmation(consentId, tokens.access_token, dpop, '100.00');
    assert.equal(available.status, 201, JSON.stringify(available.body));
    const answer = vrpFundsConfirmationResponse.parse(available.body);
    assert.equal(answer.Data.FundsAvailableResult.FundsAvailable, 'Available');
    const short = vrpFundsConfirmationResponse.parse((await fundsConfirmation(consentId, tokens.access_token, dpop, '500.01')).body);
    assert.equal(short.Data.FundsAvailableResult.FundsAvailable, 'NotAvailable');
    const mismatch = await fundsConfirmation(consentId, tokens.access_token, dpop, '1.00', crypto.randomUUID());
    assert.equal(mismatch.status, 400);
    assert.equal((mismatch.body as { Errors: { ErrorCode: string }[] }).Errors[0]!.ErrorCode, 'UK.OBIE.Resource.ConsentMismatch');
    const unknown = await fundsConfirmation(crypto.randomUUID(), tokens.access_token, dpop, '1.00');
    assert.equal(unknown.status, 404);
    const { Id: _id, ...envelope } = unknown.body as { Id: string };
    assert.deepEqual(envelope, {
      Code: '404 NotFound',
      Message: 'consent not found',
      Errors: [{ ErrorCode: 'UK.OBIE.Resource.NotFound', Message: 'consent not found', Path: 'ConsentId' }],
    });
    const withClientToken = await api.call('POST', `${DOMESTIC_VRP}/${consentId}/funds-confirmation`, {
      body: { Data: { ConsentId: consentId, Reference: 'X', InstructedAmount: { Amount: '1.00', Currency: 'GBP' } } },
    });
    assert.equal(withClientToken.status, 401, "funds confirmation takes the customer's token, not the TPP's client token");

    // The TPP ends it: its tokens die and the bank's next payment is refused.
    assert.equal((await api.call('DELETE', `${DOMESTIC_VRP}/${consentId}`)).status, 204);
    assert.equal((await bank.introspect(tokens.access_token)).active, false);
    const refused = await pay(consentId, '1.00');
    assert.equal(refused.status, 400);
    assert.equal((refused.body as { Errors: { ErrorCode: string }[] }).Errors[0]!.ErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus');
  });

  test('limits changed after the code was entered are not authorised (dynamic linking)', async () => {
    const people = await customerWithAccounts(assent);
    const consentId = await createConsent();
    const { browser, codePage } = await signIn(consentId, people);
    const consentPage = await browser.submit(codePage, 'otp', { code: await oneTimeCode(people.customer) });
    assert.ok(consentPage.body.includes(LIMITS_SENTENCE));

    // Behind the customer's back, the monthly limit grows: the approval no longer matches.
    const row = await assent.db.selectFrom('consent').select('vrp').where('id', '=', consentId).executeTakeFirstOrThrow();
    const terms = row.vrp as { controlParameters: { PeriodicLimits: { Amount: string }[] } };
    terms.controlParameters.PeriodicLimits[0]!.Amount = '5000.00';
    await assent.db
      .updateTable('consent')
      .set({ vrp: JSON.stringify(terms) })
      .where('id', '=', consentId)
      .execute();

    const refused = await browser.submit(consentPage, 'confirm', { account: people.current.id });
    assert.equal(refused.status, 409, refused.body.slice(0, 500));
    const status = await assent.db.selectFrom('consent').select('status').where('id', '=', consentId).executeTakeFirstOrThrow();
    assert.equal(status.status, 'AwaitingAuthorisation');
  });
});

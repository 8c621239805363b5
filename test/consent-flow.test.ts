import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { auditHistory, verifyAuditChain } from '../src/audit/audit-trail.ts';
import { getConsent, revokeConsent } from '../src/consents/consent-service.ts';
import { type TestAssent, startTestAssent, tlsAgent } from './support/assent.ts';
import {
  ACCOUNT_ACCESS,
  accountAccessRequest,
  ConsentApiClient,
  DOMESTIC_PAYMENT,
  domesticPaymentRequest,
  FUNDS_CONFIRMATION,
  fundsConfirmationRequest,
} from './support/consent-api.ts';
import { CustomerAgent, type Page } from './support/customer-agent.ts';
import type { TestCustomer } from './support/customers.ts';
import { createTestTpp, pushAuthorizationRequest, type TestTpp, redeemCode } from './support/tpp.ts';
import { customerWithAccounts, intentClaims } from './support/granted-consents.ts';

/** How the pages write a UK sort code and account number. */
/** How every page labels a customer's own account (src/wording/wording.ts): name and last four digits. */
const accountLabel = (account: { name: string; identification: string }) => `${account.name} (ending ${account.identification.slice(-4)})`;

/** Both SCA factors, landing on the consent page; every authorization asks for them again. */
async function signIn(
  assent: TestAssent,
  url: URL,
  customer: TestCustomer,
  browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer),
): Promise<{ browser: CustomerAgent; page: Page }> {
  return { browser, page: await browser.signIn(url, customer) };
}

const decide = (browser: CustomerAgent, page: Page, action: 'confirm' | 'abort', form: Record<string, string> = {}) =>
  browser.submit(page, action, form);

/** PAR must refuse; the pushed request's error comes back from openid-client as a response body error. */
async function assertParRefused(tpp: TestTpp, parameters: Record<string, string>, error: string, description?: RegExp) {
  await assert.rejects(pushAuthorizationRequest(tpp, parameters), (caught: oidc.ResponseBodyError) => {
    assert.equal(caught.error, error, `${caught.error}: ${caught.error_description}`);
    if (description) assert.match(caught.error_description ?? '', description);
    return true;
  });
}

describe('binding consents into the authorization flow', () => {
  let assent: TestAssent;
  let tpp: TestTpp;
  let api: ConsentApiClient;
  before(async () => {
    assent = await startTestAssent();
    tpp = await createTestTpp(assent);
    api = await ConsentApiClient.create(assent, tpp);
  });
  after(async () => {
    await assent?.stop();
  });

  const createAccountConsent = async (client = api) =>
    ((await client.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() })).body as { Data: { ConsentId: string } }).Data.ConsentId;

  test('openbanking_intent_id: the customer picks accounts and the consent ends Authorised with customer, accounts and grant', async () => {
    const { customer, current, savings } = await customerWithAccounts(assent);
    const inAWeek = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const consentId = (
      (await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest({ ExpirationDateTime: inAWeek }) })).body as {
        Data: { ConsentId: string };
      }
    ).Data.ConsentId;
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('PS256'));
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', claims: intentClaims(consentId) }, { DPoP: dpop });

    const { browser, page } = await signIn(assent, request.url, customer);
    assert.equal(page.status, 200);
    for (const shown of ['Your account details', 'Money coming in', accountLabel(current), accountLabel(savings)])
      assert.ok(page.body.includes(shown), `the page shows ${shown}`);

    const callback = await decide(browser, page, 'confirm', { [`account:${current.id}`]: 'on', [`account:${savings.id}`]: 'on' });
    assert.equal(callback.url.origin + callback.url.pathname, tpp.redirectUri);
    const tokens = await redeemCode(tpp, callback.url, request, { dpop, idTokenExpected: true });
    assert.equal(tokens.claims()?.openbanking_intent_id, consentId);
    assert.equal(tokens.claims()?.sub, customer.id);

    const consent = await getConsent(assent.db, consentId);
    assert.equal(consent?.status, 'Authorised');
    assert.equal(consent?.customerId, customer.id);
    assert.deepEqual(consent?.selectedAccountIds.toSorted(), [current.id, savings.id].toSorted());
    const token = await assent.db
      .selectFrom('oidc_model')
      .select('grant_id')
      .where('model', '=', 'AccessToken')
      .where('grant_id', '=', consent!.grantId!)
      .executeTakeFirst();
    assert.ok(token, 'the access token lives in the grant the consent records');
    const grant = await assent.db
      .selectFrom('oidc_model')
      .select('expires_at')
      .where('model', '=', 'Grant')
      .where('id', '=', consent!.grantId!)
      .executeTakeFirstOrThrow();
    assert.ok(Math.abs(grant.expires_at!.getTime() - consent!.expiresAt!.getTime()) < 5000, 'the grant ends when the consent expires');
    assert.deepEqual(
      (await auditHistory(assent.db, 'consent', consentId)).map((event) => event.event),
      ['consent.created', 'consent.authorised'],
    );
    assert.deepEqual(await verifyAuditChain(assent.db, 'consent', consentId), { valid: true, length: 2 });
    const introspected = await oidc.tokenIntrospection(tpp.config, tokens.access_token);
    assert.deepEqual(introspected.authorization_details, [{ type: 'account_information', consent_id: consentId }]);
    assert.equal(
      introspected.aud,
      undefined,
      'bound by openbanking_intent_id: no audience (docs/consents.md, Introspection), so /userinfo takes it',
    );
    assert.equal((await oidc.fetchUserInfo(tpp.config, tokens.access_token, customer.id, { DPoP: dpop })).sub, customer.id);

    // The TPP reads it as Authorised; its DELETE revokes the consent and kills its tokens at once.
    assert.equal(
      ((await api.call('GET', `${ACCOUNT_ACCESS}/${consentId}`)).body as { Data: { Status: string } }).Data.Status,
      'Authorised',
    );
    assert.equal((await api.call('DELETE', `${ACCOUNT_ACCESS}/${consentId}`)).status, 204);
    assert.equal((await oidc.tokenIntrospection(tpp.config, tokens.access_token)).active, false);
    await assert.rejects(
      oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!, undefined, { DPoP: dpop }),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_grant',
    );
    assert.equal((await getConsent(assent.db, consentId))?.status, 'Revoked');
    assert.deepEqual((await auditHistory(assent.db, 'consent', consentId)).at(-1)?.actor, { kind: 'tpp', id: tpp.clientId });
  });

  test('authorization_details without a consent: the consent is created from the details and authorised', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('PS256'));
    const details = [{ type: 'account_information', ...accountAccessRequest({ Permissions: ['ReadAccountsBasic', 'ReadBalances'] }).Data }];
    const request = await pushAuthorizationRequest(
      tpp,
      { scope: 'openid accounts', authorization_details: JSON.stringify(details) },
      { DPoP: dpop },
    );

    const { browser, page } = await signIn(assent, request.url, customer);
    assert.ok(page.body.includes('<h3>Your balances</h3>'));
    // Reloading the page does not create a second consent.
    await browser.open(page.url);
    const created = await assent.db
      .selectFrom('consent')
      .selectAll()
      .where('client_id', '=', tpp.clientId)
      .where('interaction_uid', 'is not', null)
      .execute();
    assert.equal(created.length, 1);

    const callback = await decide(browser, page, 'confirm', { [`account:${current.id}`]: 'on' });
    const tokens = await redeemCode(tpp, callback.url, request, { dpop, idTokenExpected: true });
    const consentId = created[0]!.id;
    assert.equal(tokens.claims()?.openbanking_intent_id, consentId);
    assert.deepEqual(tokens.authorization_details, [{ type: 'account_information', consent_id: consentId }]);
    const consent = await getConsent(assent.db, consentId);
    assert.equal(consent?.status, 'Authorised');
    assert.equal(consent?.customerId, customer.id);
    assert.deepEqual(consent?.reads, [
      { scope: 'accounts.basic', accounts: null },
      { scope: 'balances', accounts: null },
    ]);
    assert.deepEqual(consent?.selectedAccountIds, [current.id]);
    assert.ok(consent?.grantId);
  });

  test('authorization_details naming an existing payment consent by consent_id binds it', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const created = await api.call('POST', DOMESTIC_PAYMENT, {
      body: domesticPaymentRequest(),
      headers: { 'x-idempotency-key': crypto.randomUUID() },
    });
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const details = JSON.stringify([{ type: 'payment_initiation', consent_id: consentId }]);
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid payments', authorization_details: details });
    const { browser, page } = await signIn(assent, request.url, customer);
    assert.ok(page.body.includes('£165.88') && page.body.includes('ACME Inc'), 'the page shows the payment');
    const callback = await decide(browser, page, 'confirm', { account: current.id });
    assert.ok(callback.url.searchParams.get('code'));
    assert.equal((await getConsent(assent.db, consentId))?.status, 'Authorised');
  });

  test('a second consent in the same browser session is put to the customer again and gets a grant of its own', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const first = await createAccountConsent();
    const firstRequest = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', claims: intentClaims(first) });
    const { browser, page } = await signIn(assent, firstRequest.url, customer);
    await decide(browser, page, 'confirm', { [`account:${current.id}`]: 'on' });

    const details = JSON.stringify([{ type: 'account_information', ...accountAccessRequest({ Permissions: ['ReadAccountsBasic'] }).Data }]);
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('PS256'));
    const second = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', authorization_details: details }, { DPoP: dpop });
    const { page: secondPage } = await signIn(assent, second.url, customer, browser);
    assert.match(secondPage.body, /Choose the accounts to share/, 'the customer is asked, even though signed in with a grant already');
    const callback = await decide(browser, secondPage, 'confirm', { [`account:${current.id}`]: 'on' });
    const tokens = await redeemCode(tpp, callback.url, second, { dpop });
    const introspected = await oidc.tokenIntrospection(tpp.config, tokens.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.scope, 'accounts');
    assert.equal(introspected.aud, `${assent.issuer}/open-banking`);

    const [one, two] = await Promise.all([
      getConsent(assent.db, first),
      getConsent(assent.db, String(introspected.authorization_details?.[0]?.consent_id)),
    ]);
    assert.equal(two?.status, 'Authorised');
    assert.ok(one?.grantId && two?.grantId && one.grantId !== two.grantId);
    await revokeConsent(assent.db, { consentId: first, actor: { kind: 'customer', id: customer.id } });
    assert.equal(
      (await oidc.tokenIntrospection(tpp.config, tokens.access_token)).active,
      true,
      "revoking the first consent leaves the second one's tokens alone",
    );
  });

  test('a funds-confirmation consent is authorised only for the debtor account it names', async () => {
    const { customer, current, savings } = await customerWithAccounts(assent);
    const debtor = { SchemeName: current.schemeName, Identification: current.identification, Name: current.name };
    const created = await api.call('POST', FUNDS_CONFIRMATION, { body: fundsConfirmationRequest({ DebtorAccount: debtor }) });
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid fundsconfirmations', claims: intentClaims(consentId) });
    const { browser, page } = await signIn(assent, request.url, customer);
    assert.ok(page.body.includes(accountLabel(current)), 'the page names the account to check');
    const wrong = await decide(browser, page, 'confirm', { account: savings.id });
    assert.equal(wrong.status, 400);
    assert.equal((await getConsent(assent.db, consentId))?.status, 'AwaitingAuthorisation');
    const callback = await decide(browser, page, 'confirm', { account: current.id });
    assert.ok(callback.url.searchParams.get('code'));
    assert.deepEqual((await getConsent(assent.db, consentId))?.selectedAccountIds, [current.id]);
  });

  test('the customer choosing an account that is not theirs changes nothing', async () => {
    const { customer } = await customerWithAccounts(assent);
    const someoneElse = await customerWithAccounts(assent);
    const consentId = await createAccountConsent();
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', claims: intentClaims(consentId) });
    const { browser, page } = await signIn(assent, request.url, customer);
    const refused = await decide(browser, page, 'confirm', { [`account:${someoneElse.current.id}`]: 'on' });
    assert.equal(refused.status, 400);
    assert.match(refused.body, /That account cannot be used for this request\. Choose your accounts again\./);
    assert.equal((await getConsent(assent.db, consentId))?.status, 'AwaitingAuthorisation');
    assert.equal(
      await assent.db
        .selectFrom('oidc_model')
        .select('id')
        .where('model', '=', 'Grant')
        .where(sql`payload->>'accountId'`, '=', customer.id)
        .executeTakeFirst(),
      undefined,
    );
  });

  test('denying marks the consent Rejected and tells the TPP access_denied', async () => {
    const { customer } = await customerWithAccounts(assent);
    const consentId = await createAccountConsent();
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', claims: intentClaims(consentId) });
    const { browser, page } = await signIn(assent, request.url, customer);
    const callback = await decide(browser, page, 'abort');
    assert.equal(callback.url.searchParams.get('error'), 'access_denied');
    const consent = await getConsent(assent.db, consentId);
    assert.equal(consent?.status, 'Rejected');
    assert.equal(consent?.customerId, customer.id);
  });

  test("PAR refuses unknown, foreign, decided, expired and out-of-scope consents alike, and another consent type's scope, before any page", async () => {
    const otherTpp = await createTestTpp(assent);
    const foreign = await createAccountConsent(await ConsentApiClient.create(assent, otherTpp));
    await assertParRefused(
      tpp,
      { scope: 'openid accounts', claims: intentClaims(crypto.randomUUID()) },
      'invalid_request',
      /^unknown consent$/,
    );
    await assertParRefused(tpp, { scope: 'openid accounts', claims: intentClaims(foreign) }, 'invalid_request', /^unknown consent$/);
    await assertParRefused(
      tpp,
      { scope: 'openid accounts', authorization_details: JSON.stringify([{ type: 'account_information', consent_id: foreign }]) },
      'invalid_authorization_details',
      /^unknown consent$/,
    );

    const withdrawn = await createAccountConsent();
    await api.call('DELETE', `${ACCOUNT_ACCESS}/${withdrawn}`);
    await assertParRefused(
      tpp,
      { scope: 'openid accounts', claims: intentClaims(withdrawn) },
      'invalid_request',
      /Rejected, not AwaitingAuthorisation/,
    );

    const expired = await createAccountConsent();
    await assent.db
      .updateTable('consent')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', expired)
      .execute();
    await assertParRefused(tpp, { scope: 'openid accounts', claims: intentClaims(expired) }, 'invalid_request', /expired/);

    const fine = await createAccountConsent();
    await assertParRefused(tpp, { scope: 'openid payments', claims: intentClaims(fine) }, 'invalid_request', /requires the accounts scope/);
    await assertParRefused(
      tpp,
      { scope: 'openid accounts payments', claims: intentClaims(fine) },
      'invalid_request',
      /no Open Banking scope but accounts \(not payments\)/,
    );
    await assertParRefused(
      tpp,
      { scope: 'openid accounts', claims: JSON.stringify({ id_token: { openbanking_intent_id: { value: fine } } }) },
      'invalid_request',
      /essential/,
    );
    await assertParRefused(
      tpp,
      {
        scope: 'openid accounts',
        authorization_details: JSON.stringify([{ type: 'account_information', consent_id: fine }]),
        claims: intentClaims(fine),
      },
      'invalid_request',
      /exactly one consent/,
    );
    await assertParRefused(
      tpp,
      { scope: 'openid accounts', authorization_details: JSON.stringify([{ type: 'account_information', Permissions: ['ReadBalances'] }]) },
      'invalid_authorization_details',
      /ReadAccountsBasic or ReadAccountsDetail/,
    );
  });

  test('a consent withdrawn between PAR and the authorization endpoint is refused there, before the login page', async () => {
    const consentId = await createAccountConsent();
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', claims: intentClaims(consentId) });
    await api.call('DELETE', `${ACCOUNT_ACCESS}/${consentId}`);
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const landed = await browser.open(request.url);
    assert.equal(landed.url.origin + landed.url.pathname, tpp.redirectUri);
    assert.equal(landed.url.searchParams.get('error'), 'invalid_request');
  });
});

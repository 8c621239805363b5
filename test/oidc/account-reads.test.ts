import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { tlsAgent } from '../support/assent.ts';
import { ACCOUNT_ACCESS, accountAccessRequest } from '../support/consent-api.ts';
import { CustomerAgent, type Page } from '../support/customer-agent.ts';
import { oneTimeCode } from '../support/customers.ts';
import { customerWithAccounts } from '../support/granted-consents.ts';
import { statementsDuring } from '../support/statements.ts';
import { pushAuthorizationRequest, redeemCode } from '../support/tpp.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';

/**
 * oidc-provider asks for the customer (`findAccount`) at each resume of the authorization request and
 * at the token request. The customer comes with the interaction, session or code the request reads
 * anyway (store/batched-find.ts), in the same statement, and is kept for that one request only: a
 * request that starts after a change to the customer sees the change.
 */

/** Statements that read the customer table other than as part of the adapter's find of oidc_model rows. */
const separateCustomerReads = (statements: string[]) =>
  statements.filter((text) => /\bcustomer\b/.test(text) && !text.includes('from "oidc_model" as "t"'));
/** The adapter's find, with the customer read in it. */
const findsWithCustomer = (statements: string[]) =>
  statements.filter((text) => text.includes('from "oidc_model" as "t"') && /from customer where id =/.test(text));

/** A resume (GET of the URL a step redirected to), with the statements sent while it ran. */
async function resume(browser: CustomerAgent, posted: { url: URL; fields: Record<string, string> }) {
  const answer = await browser.request(posted.url, { form: posted.fields });
  assert.equal(answer.status, 303, `the step redirects to the resume (${answer.status})`);
  const resumeUrl = new URL(answer.headers.get('location') ?? '', posted.url);
  assert.match(resumeUrl.pathname, /^\/auth\//, 'the step hands back to the provider');
  let resumed!: Awaited<ReturnType<CustomerAgent['request']>>;
  const statements = await statementsDuring(async () => {
    resumed = await browser.request(resumeUrl);
  });
  return { statements, location: new URL(resumed.headers.get('location') ?? '', resumeUrl) };
}

describe('the customer comes with the interaction, session or code that names it', () => {
  const assent = useAssent();
  const tpp = useTpp(assent);
  const api = useConsentApi(assent, tpp);

  /**
   * PAR, login and one-time code, consent: up to the TPP's callback, with the statements of the two
   * resumes. The id token is asked for the customer's name, so the token request shows whom it read.
   */
  async function authorize() {
    const { customer, current } = await customerWithAccounts(assent);
    const created = await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() });
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const claims = JSON.stringify({ id_token: { openbanking_intent_id: { value: consentId, essential: true }, name: null } });
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', claims }, { DPoP: dpop });

    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const login = await browser.open(request.url);
    const otp = await browser.submit(login, 'login', { username: customer.username, password: customer.password });
    const afterOtp = await resume(browser, CustomerAgent.form(otp, 'otp', { code: await oneTimeCode(customer) }));
    const consentPage: Page = await browser.open(afterOtp.location);
    assert.match(consentPage.body, /\/confirm"/, `the resume found the customer and asks for consent (${consentPage.url})`);
    const afterConsent = await resume(browser, CustomerAgent.form(consentPage, 'confirm', { [`account:${current.id}`]: 'on' }));
    assert.ok(
      afterConsent.location.href.startsWith(tpp.redirectUri),
      `the resume found the customer and returns to the TPP (${afterConsent.location})`,
    );
    assert.ok(afterConsent.location.searchParams.get('code'), 'with a code');
    return { customer, request, dpop, callback: afterConsent.location, resumes: [afterOtp.statements, afterConsent.statements] };
  }

  test('neither resume nor the token request reads the customer on its own; each reads it with its find', async () => {
    const { customer, request, dpop, callback, resumes } = await authorize();
    let tokens!: Awaited<ReturnType<typeof redeemCode>>;
    const atToken = await statementsDuring(async () => {
      tokens = await redeemCode(tpp, callback, request, { dpop, idTokenExpected: true });
    });
    for (const [name, statements] of [
      ['resume after the one-time code', resumes[0]!],
      ['resume after consent', resumes[1]!],
      ['token request', atToken],
    ] as const) {
      assert.deepEqual(separateCustomerReads(statements), [], `${name}: no read of the customer of its own`);
      assert.ok(findsWithCustomer(statements).length >= 1, `${name}: the customer is read with the find, got:\n${statements.join('\n')}`);
    }
    const claims = tokens.claims();
    assert.equal(claims?.sub, customer.id, 'the id token names the customer the find read');
    assert.equal(claims?.name, customer.displayName);
  });

  test('a customer changed after the resume is seen changed by the token request: nothing is kept across requests', async () => {
    const { customer, request, dpop, callback } = await authorize();
    const renamed = `${customer.displayName} (renamed)`;
    await assent.db.updateTable('customer').set({ display_name: renamed }).where('id', '=', customer.id).execute();
    const tokens = await redeemCode(tpp, callback, request, { dpop, idTokenExpected: true });
    assert.equal(tokens.claims()?.name, renamed);
  });

  test('a customer gone after the resume is nobody at the token request: no tokens', async () => {
    const { customer, request, dpop, callback } = await authorize();
    await assent.db.deleteFrom('customer').where('id', '=', customer.id).execute();
    let refused: unknown;
    const statements = await statementsDuring(async () => {
      refused = await redeemCode(tpp, callback, request, { dpop, idTokenExpected: true }).then(
        () => undefined,
        (error: unknown) => error,
      );
    });
    assert.ok(refused instanceof oidc.ResponseBodyError, `refused: ${String(refused)}`);
    assert.equal(refused.error, 'invalid_grant');
    assert.deepEqual(separateCustomerReads(statements), [], 'the find said nobody; findAccount did not ask again');
  });
});

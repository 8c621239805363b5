import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getConsent } from '../../src/consents/consent-service.ts';
import { tlsAgent } from '../support/assent.ts';
import { commercialVrpRequest, ConsentApiClient, DOMESTIC_VRP, domesticVrpRequest } from '../support/consent-api.ts';
import { CustomerAgent, type Page } from '../support/customer-agent.ts';
import { pageText, signInToDashboard } from '../support/dashboard.ts';
import { customerWithAccounts } from '../support/granted-consents.ts';
import { useAssent, useTpp } from '../support/fixture.ts';
import { pushAuthorizationRequest } from '../support/tpp.ts';

/** The texts of the page's elements of `selector`'s class (`<li class="...">`, `<p class="...">`), without markup. */
const texts = (page: Page, tag: string, className: string) =>
  [...page.body.matchAll(new RegExp(`<${tag} class="${className}"[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))].map(([, inner]) =>
    inner!
      .replace(/<[^>]+>/g, '')
      .replace(/&#39;|&#x27;/g, "'")
      .replace(/\s+/g, ' ')
      .trim(),
  );

describe('the consent page and dashboard word a commercial VRP mandate apart from sweeping, and refuse sweeping an account into itself', () => {
  const assent = useAssent();
  const streamy = useTpp(assent, { metadata: { client_name: 'Streamy' } });

  async function consentPage(body: unknown) {
    const api = await ConsentApiClient.create(assent, streamy);
    const created = await api.call('POST', DOMESTIC_VRP, { body, headers: { 'x-idempotency-key': crypto.randomUUID() } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const request = await pushAuthorizationRequest(streamy, {
      scope: 'openid payments',
      authorization_details: JSON.stringify([{ type: 'domestic_vrp', consent_id: consentId }]),
    });
    const people = await customerWithAccounts(assent);
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const page = await browser.signIn(request.url, people.customer);
    assert.match(page.body, /\/confirm"/, 'the consent page');
    return { consentId, people, browser, page };
  }

  test('a cVRP: "take payments for Acme Streaming", the merchant, the customer reference and the off-session payments; the dashboard says the same', async () => {
    const { consentId, people, browser, page } = await consentPage(commercialVrpRequest());
    assert.equal(
      /<h1>([\s\S]*?)<\/h1>/.exec(page.body)?.[1]?.trim(),
      'Streamy wants to take payments for Acme Streaming from your account when they are due, within the limits below',
    );
    const [summary] = texts(page, 'p', 'vrp-summary');
    assert.match(summary!, /^Payments up to £30 a payment, at most £60 a calendar month, until \d{1,2} \w+ \d{4}, to Acme Streaming\.$/);
    assert.deepEqual(texts(page, 'li', 'vrp-payee'), ['to Acme Streaming (a merchant: these payments buy its goods or services)']);
    assert.deepEqual(texts(page, 'li', 'vrp-reference'), ['Your customer reference with Acme Streaming: CUST-0042']);
    assert.deepEqual(texts(page, 'p', 'vrp-presence'), ['Also when you are not there: you are not asked before each payment.']);
    assert.doesNotMatch(page.body, /between your own accounts/, 'a merchant mandate is not called sweeping');

    const callback = await browser.submit(page, 'confirm', { account: people.current.id });
    assert.ok(callback.url.searchParams.get('code'), `code: ${callback.url}`);
    assert.equal((await getConsent(assent.db, consentId))?.status, 'Authorised');

    const dashboard = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const { home } = await signInToDashboard(dashboard, assent.issuer, people.customer);
    assert.match(pageText(home), /Streamy Take payments for Acme Streaming/);
    const detail = await dashboard.open(new URL(`/dashboard/consents/${consentId}`, assent.issuer));
    assert.match(detail.body, /<h1>Streamy: take payments for Acme Streaming<\/h1>/);
    assert.match(pageText(detail), /Payments up to £30 a payment, at most £60 a calendar month, .* to Acme Streaming\./);
  });

  test("a sweeping consent into the customer's own saver: the page says why the saver is not offered, and choosing it anyway is refused in a styled alert", async () => {
    const api = await ConsentApiClient.create(assent, streamy);
    const people = await customerWithAccounts(assent);
    const created = await api.call('POST', DOMESTIC_VRP, {
      body: domesticVrpRequest(
        {},
        {
          CreditorAccount: {
            SchemeName: people.savings.schemeName,
            Identification: people.savings.identification,
            Name: 'Rainy Day Saver',
          },
        },
      ),
      headers: { 'x-idempotency-key': crypto.randomUUID() },
    });
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const request = await pushAuthorizationRequest(streamy, {
      scope: 'openid payments',
      authorization_details: JSON.stringify([{ type: 'domestic_vrp', consent_id: consentId }]),
    });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const page = await browser.signIn(request.url, people.customer);
    const last4 = people.savings.identification.slice(-4);
    assert.deepEqual(texts(page, 'p', 'hint destination'), [
      `Rainy Day Saver (ending ${last4}) is not offered: it is the account the money is moved into.`,
    ]);
    assert.deepEqual(texts(page, 'li', 'vrp-payee'), ['to Rainy Day Saver (moving money between your own accounts)']);

    // A stale or crafted form that names the saver anyway.
    const refused = await browser.submit(page, 'confirm', { account: people.savings.id });
    assert.equal(refused.status, 400);
    assert.match(
      refused.body,
      new RegExp(
        `<p class="error" role="alert" id="consent-error">Rainy Day Saver \\(ending ${last4}\\) is the account the money is moved into\\. ` +
          'Sweeping moves money between two of your accounts: choose another account to move it from\\.</p>',
      ),
    );
    const consent = await getConsent(assent.db, consentId);
    assert.equal(consent?.status, 'AwaitingAuthorisation', 'nothing was authorised');
    assert.equal(consent?.payingAccount, null);

    // The page still lets the customer choose the account to sweep from.
    const callback = await browser.submit(refused, 'confirm', { account: people.current.id });
    assert.ok(callback.url.searchParams.get('code'), `code: ${callback.url}`);
    assert.deepEqual((await getConsent(assent.db, consentId))?.payingAccount, {
      scheme: 'sort_code_account',
      identification: people.current.identification,
    });
  });
});

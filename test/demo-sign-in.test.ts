import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConsentRequest } from '../src/uk-ob-v3/consent-request.ts';
import { createConsent, getConsent } from '../src/consents/consent-service.ts';
import { currentTotpCode } from '../src/customers/totp.ts';
import { authorizationRequest } from '../src/demo/demo-tpp.ts';
import { type TestAssent, startTestAssent, tlsAgent } from './support/assent.ts';
import { domesticPaymentRequest } from './support/consent-api.ts';
import { CustomerAgent } from './support/customer-agent.ts';

/** What the README tells a developer to do: the demo TPP's request, the demo customer's password and code. */
describe('signing in as the demo customer', () => {
  let assent: TestAssent;
  before(async () => {
    assent = await startTestAssent({ SEED_DEMO: 'true' });
  });
  after(async () => {
    await assent?.stop();
  });

  test('demo-tpp authorize -> password -> code -> consent page -> approve: the demo TPP gets a code', async () => {
    const parsed = parseConsentRequest('domestic_payment', domesticPaymentRequest());
    assert.ok(parsed.ok);
    const { consent } = await createConsent(assent.db, { clientId: 'demo-tpp', draft: parsed.draft });
    const { url, codeVerifier } = await authorizationRequest(
      { issuer: assent.issuer, dataDir: assent.dataDir },
      consent.id,
      'openid payments',
    );
    assert.match(codeVerifier, /^[\w-]{43}$/);

    const demo = JSON.parse(await readFile(path.join(assent.dataDir, 'demo', 'customer.json'), 'utf8')) as {
      username: string;
      password: string;
      totpSecret: string;
    };
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const login = await browser.open(url);
    assert.match(login.body, /Demo TPP/);
    const otp = await browser.submit(login, 'login', { username: demo.username, password: demo.password });
    assert.match(otp.body, /£165.88/, 'the code step shows the payment');
    const page = await browser.submit(otp, 'otp', { code: currentTotpCode(demo.totpSecret) });
    assert.match(page.body, /<h1>Demo TPP wants to make a payment from your account<\/h1>/);
    // The GBP current and savings accounts can pay in GBP; the EUR account is not offered.
    assert.match(page.body, /Everyday Current Account/);
    assert.match(page.body, /Rainy Day Saver/);
    assert.doesNotMatch(page.body, /Euro Travel Account/);
    const everyday = await assent.db
      .selectFrom('bank_account')
      .select('id')
      .where('identification', '=', '40400411111111')
      .executeTakeFirstOrThrow();
    const back = await browser.submit(page, 'confirm', { account: everyday.id });
    assert.equal(back.url.origin + back.url.pathname, 'https://localhost:9443/callback');
    assert.ok(back.url.searchParams.get('code'));
    assert.equal((await getConsent(assent.db, consent.id))?.status, 'Authorised');
  });
});

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { currentTotpCode } from '../../src/customers/totp.ts';
import { tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { signInToDashboard } from '../support/dashboard.ts';
import { useAssent } from '../support/fixture.ts';

describe('trying the dashboard with the demo data (docs/dashboard.md)', () => {
  const assent = useAssent({ SEED_DEMO: 'true' });

  test("the demo customer signs in and finds the demo TPP's consents under every tab", async () => {
    const demo = JSON.parse(await readFile(path.join(assent.demoDirectory!, 'customer.json'), 'utf8')) as {
      username: string;
      password: string;
      totpSecret: string;
    };
    const credentials = { ...demo, nextCode: () => currentTotpCode(demo.totpSecret, Date.now()) };
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const { home } = await signInToDashboard(browser, assent.issuer, credentials);
    assert.equal(home.status, 200);
    assert.match(home.body, /<h2 id="tpp-demo-tpp">Demo TPP<\/h2>/);
    assert.match(home.body, /See your account information/);
    assert.match(home.body, /Make one payment/);
    assert.match(home.body, /Active <span class="count">\(2\)<\/span>/);
    const ended = await browser.open(new URL('/dashboard?tab=ended', assent.issuer));
    assert.match(ended.body, /Revoked, declined or used <span class="count">\(1\)<\/span>/);
  });

  test('the seeded payment in GBP is paid from a GBP account, as the consent page would offer (not the Euro account)', async () => {
    const payment = await assent.db
      .selectFrom('consent')
      .select(['selected_account_ids', 'instructed_currency'])
      .where('type', '=', 'domestic_payment')
      .executeTakeFirstOrThrow();
    const accounts = await assent.db
      .selectFrom('bank_account')
      .select(['currency', 'name'])
      .where('id', 'in', payment.selected_account_ids as string[])
      .execute();
    assert.equal(payment.instructed_currency, 'GBP');
    assert.deepEqual(
      accounts.map((account) => account.currency),
      ['GBP'],
      `paid from ${accounts.map((account) => account.name).join(', ')}`,
    );
  });
});

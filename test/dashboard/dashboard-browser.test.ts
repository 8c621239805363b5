import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { axeViolations, useChromium, seriousOnly } from '../support/browser.ts';
import { oneTimeCode } from '../support/customers.ts';
import { customerWithAccounts, grantConsent } from '../support/granted-consents.ts';
import { createTestTpp } from '../support/tpp.ts';
import { useAssent } from '../support/fixture.ts';

const SCREENSHOTS = 'test-results';

async function expectAccessible(page: Page, name: string) {
  await page.screenshot({ path: `${SCREENSHOTS}/dashboard-${name}.png`, fullPage: true });
  const serious = seriousOnly(await axeViolations(page));
  assert.deepEqual(serious, [], `${name}: ${JSON.stringify(serious, null, 2)}`);
}

describe('the dashboard in a real browser (Chromium, phone-sized)', () => {
  const assent = useAssent();
  const browser = useChromium();
  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
  });

  test('sign in through Assent, open a consent, revoke it, find it under Revoked; every page passes axe', async () => {
    const { customer, current, savings } = await customerWithAccounts(assent);
    const tpp = await createTestTpp(assent, { metadata: { client_name: 'Moneywise Budgeting' } });
    const { consentId } = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current, savings] });
    const page = await browser.context.newPage();
    const scriptErrors: string[] = [];
    // The signed-out page answers 401 and the browser asks for a favicon: only script and CSP errors count.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) scriptErrors.push(message.text());
    });
    page.on('pageerror', (error) => scriptErrors.push(error.message));

    await page.goto(`${assent.issuer}/dashboard`);
    await expectAccessible(page, 'signed-out');
    await page.keyboard.press('Tab');
    assert.equal((await page.locator(':focus').textContent())?.trim(), 'Skip to main content', 'the skip link comes first in focus order');

    await page.getByRole('link', { name: 'Sign in to your consents' }).click();
    await page.getByLabel('Username').fill(customer.username);
    await page.getByLabel('Password').fill(customer.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('One-time code').fill(await oneTimeCode(customer));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${assent.issuer}/dashboard`);

    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Who can access your accounts');
    assert.equal(await page.getByRole('main').count(), 1);
    assert.equal(await page.getByRole('navigation', { name: 'Filter consents' }).count(), 1);
    await expectAccessible(page, 'home');

    await page.getByRole('link', { name: 'See your account information for Moneywise Budgeting' }).click();
    await page.waitForURL(`${assent.issuer}/dashboard/consents/${consentId}`);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Moneywise Budgeting: see your account information');
    await page.getByText('Your transactions in full').waitFor();
    await expectAccessible(page, 'detail');

    await page.getByRole('link', { name: 'Revoke this consent' }).click();
    await page.getByText('loses access').waitFor();
    await expectAccessible(page, 'revoke-confirmation');
    await page.getByRole('button', { name: 'Yes, revoke access now' }).click();
    await page.waitForURL(`${assent.issuer}/dashboard/consents/${consentId}/receipt`);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Moneywise Budgeting no longer has access');
    await expectAccessible(page, 'receipt');

    await page.getByRole('link', { name: 'See your revoked consents' }).click();
    const revoked = page.getByRole('listitem').filter({ hasText: 'See your account information' });
    assert.equal(await revoked.getByText('Revoked', { exact: true }).count(), 1, 'the consent is listed as Revoked');
    assert.equal(
      await page
        .locator('a[aria-current="page"]')
        .textContent()
        .then((label) => label?.replace(/\s+/g, ' ').trim()),
      'Revoked, declined or used (1)',
    );
    await expectAccessible(page, 'revoked-tab');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You have signed out.').waitFor();
    assert.deepEqual(scriptErrors, [], 'no CSP violations or script errors');
  });
});

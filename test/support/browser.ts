import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { oneTimeCode, type TestCustomer } from './customers.ts';
import { fixture } from './fixture.ts';

/**
 * Debian's Chromium, headless, in a fresh profile, trusting nothing but accepting the dev CA's
 * certificate; `locale` is the browser's language (its Accept-Language).
 */
export async function launchChromium(
  viewport = { width: 390, height: 844 },
  locale = 'en-GB',
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'assent-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    ignoreHTTPSErrors: true,
    viewport,
    locale,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** A headless Chromium (launchChromium) for the file or suite, closed after it (test/support/fixture.ts). */
export function useChromium(...options: Parameters<typeof launchChromium>): Awaited<ReturnType<typeof launchChromium>> {
  return fixture(
    () => launchChromium(...options),
    (browser) => browser.close(),
  );
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * Runs axe-core inside the page. Evaluated over the DevTools protocol, so the page's CSP (no inline
 * or injected scripts) stays in force while the check runs.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(await axeSource);
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(options: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const results = await axe.run({ resultTypes: ['violations'] });
    return results.violations.map(({ id, impact, help, nodes }) => ({
      id,
      impact,
      help,
      nodes: nodes.map((node) => ({ target: node.target })),
    }));
  });
}

export function seriousOnly(violations: AxeViolation[]) {
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

/** Signs the customer in to the dashboard through Assent's own pages (English), password then one-time code. */
export async function signInToDashboard(page: Page, issuer: string, customer: TestCustomer): Promise<void> {
  await page.goto(`${issuer}/dashboard/login`);
  await page.getByLabel('Username').fill(customer.username);
  await page.getByLabel('Password').fill(customer.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('One-time code').fill(await oneTimeCode(customer));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(`${issuer}/dashboard`);
}

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fetch } from 'undici';
import { currentTotpCode } from '../src/customers/totp.ts';
import { type TestAssent, startTestAssent, tlsAgent } from './support/assent.ts';
import { CustomerAgent, type Page } from './support/customer-agent.ts';
import { freePort } from './support/free-port.ts';

let assent: TestAssent;
before(async () => { assent = await startTestAssent({ SEED_DEMO: 'true' }); });
after(async () => { await assent?.stop(); });

/** Runs `npm run demo` with `args`, plays the demo customer in a browser, and returns what the demo printed. */
async function runDemo(args: string[], check: (consentPage: Page) => Record<string, string>): Promise<string> {
  const port = await freePort();
  const demo = spawn(process.execPath, ['src/demo/demo.ts', ...args], {
    env: { ...process.env, ISSUER: assent.issuer, DATA_DIR: assent.dataDir, DEV_MODE: 'true', DATABASE_URL: assent.databaseUrl, DEMO_CALLBACK_PORT: String(port), LOG_LEVEL: 'silent' },
  });
  let output = '';
  let errors = '';
  demo.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  demo.stderr.on('data', (chunk: Buffer) => { errors += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => demo.on('exit', resolve));
  try {
    for (let waited = 0; !output.includes('Waiting for the callback') && waited < 60_000; waited += 100) {
      if (demo.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const url = /^https:\/\/\S+\/auth\?\S+$/m.exec(output)?.[0];
    assert.ok(url, `the demo prints the authorization URL:\n${output}\n${errors}`);

    const credentials = JSON.parse(await readFile(path.join(assent.dataDir, 'demo', 'customer.json'), 'utf8')) as { username: string; password: string; totpSecret: string };
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    // A code is accepted once per 30-second step: a second run waits for the next one.
    const nextCode = () => {
      const step = Math.floor(Date.now() / 30_000);
      if (step === usedStep) throw new Error('codes used within 30 seconds');
      usedStep = step;
      return currentTotpCode(credentials.totpSecret, Date.now());
    };
    const consentPage = await browser.signIn(new URL(url), { ...credentials, nextCode });
    const callback = await browser.submit(consentPage, 'confirm', check(consentPage));
    assert.equal(callback.url.origin, `https://localhost:${port}`);
    assert.equal((await fetch(callback.url, { dispatcher: tlsAgent(assent.ca.certPem) })).status, 200);

    assert.equal(await exited, 0, errors);
    assert.match(output, /registered client [0-9a-f-]{36}/);
    assert.match(output, /"active": true/);
    assert.match(output, /"consent_id": "[0-9a-f-]{36}"/);
    assert.match(output, /acr urn:openbanking:psd2:sca/);
    return output;
  } finally {
    demo.kill();
  }
}

let usedStep: number | undefined;

test('npm run demo: onboard by SSA, create a consent, PAR, customer approves, code redeemed, introspection printed', async () => {
  await runDemo([], (consentPage) => {
    const account = /name="(account:[^"]+)"/.exec(consentPage.body)?.[1];
    assert.ok(account, 'the consent page offers the demo customer\'s accounts');
    return { [account]: 'on' };
  });
});

test('npm run demo -- --vrp: a PISP\'s sweeping VRP consent, approved with its limits in words, introspected, funds confirmed', async () => {
  const output = await runDemo(['--vrp'], (consentPage) => {
    assert.ok(consentPage.body.includes('up to £250 a payment, at most £1,000 a calendar month'), 'the consent page states the limits');
    const account = /name="account" value="([^"]+)"/.exec(consentPage.body)?.[1];
    assert.ok(account, 'the consent page offers an account to pay from');
    return { account };
  });
  assert.match(output, /created sweeping domestic VRP consent/);
  assert.match(output, /"consent_type": "domestic_vrp"/);
  assert.match(output, /"control_parameters"/);
  assert.match(output, /"Remaining": "1000.00"/);
  assert.match(output, /"FundsAvailable": "Available"/);
});

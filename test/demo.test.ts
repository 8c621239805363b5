import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fetch } from 'undici';
import { currentTotpCode } from '../src/customers/totp.ts';
import { type TestAssent, startTestAssent, tlsAgent } from './support/assent.ts';
import { CustomerAgent } from './support/customer-agent.ts';
import { freePort } from './support/free-port.ts';

let assent: TestAssent;
before(async () => { assent = await startTestAssent({ SEED_DEMO: 'true' }); });
after(async () => { await assent?.stop(); });

test('npm run demo: onboard by SSA, create a consent, PAR, customer approves, code redeemed, introspection printed', async () => {
  const port = await freePort();
  const demo = spawn(process.execPath, ['src/demo/demo.ts'], {
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
    const consentPage = await browser.signIn(new URL(url), { ...credentials, nextCode: () => currentTotpCode(credentials.totpSecret, Date.now()) });
    const account = /name="(account:[^"]+)"/.exec(consentPage.body)?.[1];
    assert.ok(account, 'the consent page offers the demo customer\'s accounts');
    const callback = await browser.submit(consentPage, 'confirm', { [account]: 'on' });
    assert.equal(callback.url.origin, `https://localhost:${port}`);
    assert.equal((await fetch(callback.url, { dispatcher: tlsAgent(assent.ca.certPem) })).status, 200);

    assert.equal(await exited, 0, errors);
    assert.match(output, /registered client [0-9a-f-]{36}/);
    assert.match(output, /"active": true/);
    assert.match(output, /"consent_id": "[0-9a-f-]{36}"/);
    assert.match(output, /acr urn:openbanking:psd2:sca/);
  } finally {
    demo.kill();
  }
});

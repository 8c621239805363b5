import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { decodeJwt } from 'jose';
import { fetch } from 'undici';
import { currentTotpCode } from '../../src/customers/totp.ts';
import { tlsAgent } from '../support/assent.ts';
import { CustomerAgent, type Page } from '../support/customer-agent.ts';
import { freePort } from '../support/free-port.ts';
import { useAssent } from '../support/fixture.ts';

const assent = useAssent({ SEED_DEMO: 'true' });

/** What a UK demo prints once the customer approved: its registration, the id token, the active consent-bound token. */
function assertUkDemoOutput(output: string) {
  assert.match(output, /registered client [0-9a-f-]{36}/);
  assert.match(output, /"active": true/);
  assert.match(output, /"consent_id": "[0-9a-f-]{36}"/);
  assert.match(output, /acr urn:openbanking:psd2:sca/);
}

/** Runs `npm run demo` with `args`, plays the demo customer in a browser, and returns what the demo printed. */
async function runDemo(args: string[], check: (consentPage: Page) => Record<string, string>): Promise<string> {
  const port = await freePort();
  const demo = spawn(process.execPath, ['src/demo/demo.ts', ...args], {
    env: {
      ...process.env,
      ISSUER: assent.issuer,
      DATA_DIR: assent.dataDir,
      DEV_MODE: 'true',
      DATABASE_URL: assent.databaseUrl,
      DEMO_CALLBACK_PORT: String(port),
      LOG_LEVEL: 'silent',
    },
  });
  let output = '';
  let errors = '';
  demo.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  demo.stderr.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => demo.on('exit', resolve));
  try {
    for (let waited = 0; !output.includes('Waiting for the callback') && waited < 60_000; waited += 100) {
      if (demo.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const url = /^https:\/\/\S+\/auth\?\S+$/m.exec(output)?.[0];
    assert.ok(url, `the demo prints the authorization URL:\n${output}\n${errors}`);

    const credentials = JSON.parse(await readFile(path.join(assent.dataDir, 'demo', 'customer.json'), 'utf8')) as {
      username: string;
      password: string;
      totpSecret: string;
    };
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
    return output;
  } finally {
    demo.kill();
  }
}

let usedStep: number | undefined;

test('npm run demo: onboard by SSA, create a consent, PAR, customer approves, code redeemed, introspection printed', async () => {
  const output = await runDemo([], (consentPage) => {
    const account = /name="(account:[^"]+)"/.exec(consentPage.body)?.[1];
    assert.ok(account, "the consent page offers the demo customer's accounts");
    return { [account]: 'on' };
  });
  assertUkDemoOutput(output);
});

test('npm run demo -- --berlin-group: an EU TPP by its QWAC alone; consent, SCA by redirect, token, access counted, terminated', async () => {
  const output = await runDemo(['--berlin-group'], (consentPage) => {
    assert.ok(consentPage.body.includes('IBAN GB33 BUKB 2020 1555 5555 55'), 'the consent page names the IBAN the consent names');
    assert.ok(consentPage.body.includes('may look up to 4 times a day'), 'and how often the TPP may look without the customer');
    const account = /name="(account:[^"]+)"/.exec(consentPage.body)?.[1];
    assert.ok(account, 'the consent page offers the named account');
    return { [account]: 'on' };
  });
  assert.match(output, /QWAC for PSDDE-BAFIN-DEMO01 \(PSP_AI\) from the dev CA; no registration/);
  assert.match(output, /created Berlin Group consent [0-9a-f-]{36} \(received\)/);
  assert.match(output, /"scaOAuth"/);
  assert.match(output, /consent status: valid/);
  assert.match(output, /"active": true/);
  assert.match(output, /"standard": "berlin_group"/);
  assert.match(output, /account access recorded \(201\)/);
  assert.match(output, /"FrequencyPerDay": 4/);
  assert.match(output, /"Remaining": 3/);
  assert.match(output, /DELETE \/v1\/consents\/[0-9a-f-]{36}: 204/);
  assert.match(output, /consent status: terminatedByTpp/);
  assert.match(output, /introspection after termination: active false/);
});

test("npm run demo -- --vrp: a PISP's sweeping VRP consent, approved with its limits in words, introspected, funds confirmed", async () => {
  const output = await runDemo(['--vrp'], (consentPage) => {
    assert.ok(consentPage.body.includes('up to £250 a payment, at most £1,000 a calendar month'), 'the consent page states the limits');
    const account = /name="account" value="([^"]+)"/.exec(consentPage.body)?.[1];
    assert.ok(account, 'the consent page offers an account to pay from');
    return { account };
  });
  assertUkDemoOutput(output);
  assert.match(output, /created sweeping domestic VRP consent/);
  assert.match(output, /"consent_type": "domestic_vrp"/);
  assert.match(output, /"control_parameters"/);
  assert.match(output, /"Remaining": "1000.00"/);
  assert.match(output, /"FundsAvailable": "Available"/);
});

/** Runs a demo tool to its end: exit code and what it wrote. */
function runTool(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const tool = spawn(process.execPath, [script, ...args], { env: { ...process.env, DEV_MODE: 'true', LOG_LEVEL: 'silent', ...env } });
  let stdout = '';
  let stderr = '';
  tool.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  tool.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => tool.on('exit', (code) => resolve({ code, stdout, stderr })));
}

test('with no server, or no dev CA, npm run demo and demo-tpp say in one line what to start', async () => {
  const nobody = `https://localhost:${await freePort()}`;
  const noServer = `no Assent server answers at ${nobody}: start it with \`npm start\` in another terminal, or set PORT (or ISSUER) to where it listens\n`;
  for (const [script, args] of [
    ['src/demo/demo.ts', []],
    ['src/demo/demo-tpp-cli.ts', ['token']],
  ] as const) {
    const run = await runTool(script, [...args], { ISSUER: nobody, DATA_DIR: assent.dataDir });
    assert.deepEqual([run.code, run.stderr], [1, noServer], script);
  }
  const empty = await mkdtemp(path.join(tmpdir(), 'assent-demo-'));
  try {
    const run = await runTool('src/demo/demo.ts', [], { ISSUER: assent.issuer, DATA_DIR: empty });
    assert.deepEqual(
      [run.code, run.stderr],
      [
        1,
        `no dev CA at ${path.join(empty, 'tls', 'ca.pem')}: start the server once with \`npm start\` (dev mode creates it), or set DATA_DIR to the server's\n`,
      ],
    );
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});

test("npm run demo-tpp: the token and a proof for curl carry the server's DPoP nonce, and the consent API takes them", async () => {
  const env = { ISSUER: assent.issuer, DATA_DIR: assent.dataDir, DATABASE_URL: assent.databaseUrl };
  const token = await runTool('src/demo/demo-tpp-cli.ts', ['token', 'accounts'], env);
  assert.equal(token.code, 0, token.stderr);
  const accessToken = token.stdout.trim();
  const url = `${assent.issuer}/open-banking/v3.1/aisp/account-access-consents`;
  const proof = await runTool('src/demo/demo-tpp-cli.ts', ['proof', 'POST', url, accessToken], env);
  assert.equal(proof.code, 0, proof.stderr);
  assert.equal(typeof decodeJwt(proof.stdout.trim()).nonce, 'string', 'the proof carries a nonce');
  const created = await fetch(url, {
    method: 'POST',
    dispatcher: tlsAgent(assent.ca.certPem),
    headers: { authorization: `DPoP ${accessToken}`, dpop: proof.stdout.trim(), 'content-type': 'application/json' },
    body: JSON.stringify({
      Data: { Permissions: ['ReadAccountsDetail'], ExpirationDateTime: new Date(Date.now() + 86_400_000).toISOString() },
      Risk: {},
    }),
  });
  assert.equal(created.status, 201, await created.text());
});

const registeredClients = () =>
  assent.db
    .selectFrom('oidc_model')
    .select(({ fn }) => fn.countAll<string>().as('n'))
    .where('model', '=', 'Client')
    .executeTakeFirstOrThrow();

test('npm run demo with its callback port taken says so in one line, before registering anything', async () => {
  const holder = createServer();
  const held = await new Promise<number>((resolve) => holder.listen(0, '127.0.0.1', () => resolve((holder.address() as AddressInfo).port)));
  try {
    const registered = await registeredClients();
    const run = await runTool('src/demo/demo.ts', [], {
      ISSUER: assent.issuer,
      DATA_DIR: assent.dataDir,
      DATABASE_URL: assent.databaseUrl,
      DEMO_CALLBACK_PORT: String(held),
    });
    assert.deepEqual(
      [run.code, run.stderr],
      [
        1,
        `DEMO_CALLBACK_PORT=${held}: 127.0.0.1:${held} is in use by another process; stop it, or set DEMO_CALLBACK_PORT to a free port\n`,
      ],
    );
    assert.deepEqual(await registeredClients(), registered, 'no client registered');
  } finally {
    holder.close();
  }
});

test('the seeded demo TPP is a TPP to the operator: tpp:list shows it, tpp:suspend demo-tpp suspends it, tpp:reinstate brings it back', async () => {
  const env = { DATA_DIR: assent.dataDir, DATABASE_URL: assent.databaseUrl };
  const listed = await runTool('src/cli/admin.ts', ['tpp:list', '--json'], env);
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok(
    (JSON.parse(listed.stdout) as { clientId: string; roles: string[] }[]).some(
      (tpp) => tpp.clientId === 'demo-tpp' && tpp.roles.length === 3,
    ),
    listed.stdout,
  );
  const suspended = await runTool('src/cli/admin.ts', ['tpp:suspend', 'demo-tpp', '--reason', 'trying the runbook', '--json'], env);
  assert.equal(suspended.code, 0, suspended.stderr);
  assert.equal((JSON.parse(suspended.stdout) as { status: string }).status, 'suspended');
  const reinstated = await runTool('src/cli/admin.ts', ['tpp:reinstate', 'demo-tpp', '--json'], env);
  assert.equal(reinstated.code, 0, reinstated.stderr);
  assert.equal((JSON.parse(reinstated.stdout) as { status: string }).status, 'active');
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { ENGINE_PATHS } from '../../src/protocol/routes.ts';
import { type RunningAssent, startAssent } from '../../src/server.ts';
import { type TestAssent, startTestAssent, tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer } from '../support/customers.ts';
import { useAssent, useTpp } from '../support/fixture.ts';
import { createTestTpp, pushAuthorizationRequest, recordExchanges } from '../support/tpp.ts';

const LIMITS = { RATE_LIMIT_TOKEN: '3/60', RATE_LIMIT_LOGIN: '2/60', RATE_LIMIT_PAR: '4/60', RATE_LIMIT_REGISTRATION: '1/60' };

describe('rate limits shared through Postgres', () => {
  let assent: TestAssent;
  let other: RunningAssent;
  before(async () => {
    assent = await startTestAssent(LIMITS);
    // A second process's worth of server on the same database: the counters are shared.
    const config = loadConfig({
      DATABASE_URL: assent.databaseUrl,
      DATA_DIR: assent.dataDir,
      DEV_MODE: 'true',
      SEED_DEMO: 'false',
      PORT: '0',
      ADMIN_PORT: '0',
      ...LIMITS,
    });
    other = await startAssent(config, createLogger('silent'));
  });
  after(async () => {
    await other?.close();
    await assent?.stop();
  });

  test('token requests over the limit get 429 with Retry-After, on every instance', async () => {
    const tpp = await createTestTpp(assent, { auth: 'tls_client_auth' });
    const token = (port: number) =>
      fetch(`https://localhost:${port}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'accounts', client_id: tpp.clientId }).toString(),
        dispatcher: tpp.agent,
      });
    for (const port of [assent.port, other.port, assent.port]) assert.equal((await token(port)).status, 200);
    for (const port of [other.port, assent.port]) {
      const refused = await token(port);
      assert.equal(refused.status, 429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      const body = (await refused.json()) as { error: string; error_description: string };
      assert.equal(body.error, 'temporarily_unavailable');
      assert.match(body.error_description, /too many requests/);
    }
    const issued = await assent.db.selectFrom('oidc_model').select('id').where('model', '=', 'ClientCredentials').execute();
    assert.equal(issued.length, 3, 'refused requests issue nothing');
  });

  test('sign-in attempts over the limit get a 429 page and are counted as rate-limited login failures', async () => {
    const tpp = await createTestTpp(assent);
    const customer = await createTestCustomer(assent.db);
    const request = await pushAuthorizationRequest(tpp);
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const login = await browser.open(request.url);
    const attempt = (password: string) => browser.submit(login, 'login', { username: customer.username, password });
    assert.equal((await attempt('wrong-1')).status, 401);
    assert.equal((await attempt('wrong-2')).status, 401);
    const throttled = await attempt(customer.password);
    assert.equal(throttled.status, 429, 'even the right password waits out the window');
    assert.match(throttled.body, /Too many attempts/);
    const metrics = await (await fetch(`${assent.issuer}/metrics`, { dispatcher: tlsAgent(assent.ca.certPem) })).text();
    assert.match(metrics, /assent_login_failures_total\{reason="rate_limited"\} 1/);
    assert.match(metrics, /assent_rate_limited_total\{policy="login"\} 1/);
  });

  test('PAR and registration are limited too', async () => {
    const tpp = await createTestTpp(assent);
    for (let i = 0; i < 3; i += 1) await pushAuthorizationRequest(tpp);
    await assert.rejects(pushAuthorizationRequest(tpp), (error: { status?: number }) => error.status === 429);
    const register = () =>
      fetch(`${assent.issuer}${ENGINE_PATHS.registration}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        dispatcher: tlsAgent(assent.ca.certPem),
      });
    const first = await register();
    assert.equal(first.status, 400, 'the registration route answers (an empty request is refused)');
    assert.equal((await register()).status, 429);
  });
});

describe('a DPoP nonce challenge is not counted against the address', () => {
  const assent = useAssent({ RATE_LIMIT_PAR: '2/60' });
  const tpp = useTpp(assent);

  test('two PARs, each challenged for a nonce first, fit a limit of two; a third is refused', async () => {
    const seen = recordExchanges(tpp);
    for (let i = 0; i < 2; i += 1) {
      // A new handle knows no nonce yet, so each PAR is challenged once and sent again.
      const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
      assert.ok((await pushAuthorizationRequest(tpp, {}, { DPoP: dpop })).url);
    }
    assert.equal(seen.filter((exchange) => exchange.error === 'use_dpop_nonce').length, 2, 'both PARs were challenged');
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    await assert.rejects(pushAuthorizationRequest(tpp, {}, { DPoP: dpop }), (error: { status?: number }) => error.status === 429);
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fetch } from 'undici';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { startAssent } from '../src/server.ts';
import * as oidc from 'openid-client';
import { tlsAgent } from './support/assent.ts';
import { CustomerAgent } from './support/customer-agent.ts';
import { createTestCustomer } from './support/customers.ts';
import { createTestTpp, pushAuthorizationRequest, redeemCode } from './support/tpp.ts';

test('embedded mode (PGlite, no DATABASE_URL) starts, migrates, seeds the demo and serves discovery; a restart reuses it', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'assent-embedded-'));
  const env = { DATA_DIR: dataDir, PORT: '0', ADMIN_PORT: '0', LOG_LEVEL: 'silent' };
  try {
    const first = await startAssent(loadConfig(env), createLogger('silent'));
    const agent = tlsAgent(await readFile(path.join(dataDir, 'tls', 'ca.pem'), 'utf8'));
    let jwks: unknown;
    let demo: string;
    try {
      const discovery = (await (await fetch(`${first.issuer}/.well-known/openid-configuration`, { dispatcher: agent })).json()) as Record<
        string,
        unknown
      >;
      assert.equal(discovery.issuer, first.issuer);
      assert.equal(discovery.require_pushed_authorization_requests, true);
      jwks = await (await fetch(`${first.issuer}/jwks`, { dispatcher: agent })).json();
      demo = await readFile(path.join(dataDir, 'demo', 'customer.json'), 'utf8');
      const client = await first.db.selectFrom('oidc_model').select('id').where('model', '=', 'Client').orderBy('id').execute();
      assert.deepEqual(
        client.map((row) => row.id),
        ['assent-dashboard', 'demo-tpp'],
      );
      assert.match(first.demoTotp?.secret ?? '', /^[A-Z2-7]{32}$/, 'the demo customer has an authenticator');
      assert.equal((JSON.parse(demo) as { totpSecret?: string }).totpSecret, first.demoTotp?.secret);
    } finally {
      await first.close();
    }

    const second = await startAssent(loadConfig(env), createLogger('silent'));
    try {
      const again = await (await fetch(`${second.issuer}/jwks`, { dispatcher: agent })).json();
      assert.deepEqual(again, jwks, 'the same signing keys after a restart');
      assert.equal(await readFile(path.join(dataDir, 'demo', 'customer.json'), 'utf8'), demo, 'the same demo customer');
      assert.equal(second.demoTotp?.secret, first.demoTotp?.secret, 'the same authenticator secret, printed again');

      // A whole FAPI flow on PGlite's single connection: nothing may wait on a second one.
      const ca = {
        certPem: await readFile(path.join(dataDir, 'tls', 'ca.pem'), 'utf8'),
        keyPem: await readFile(path.join(dataDir, 'tls', 'ca-key.pem'), 'utf8'),
      };
      const tpp = await createTestTpp({ issuer: second.issuer, ca, db: second.db }, { auth: 'tls_client_auth' });
      const customer = await createTestCustomer(second.db);
      const request = await pushAuthorizationRequest(tpp);
      const callback = await new CustomerAgent(agent, second.issuer).authorize(request.url, customer);
      const tokens = await redeemCode(tpp, callback, request);
      assert.equal((await oidc.tokenIntrospection(tpp.config, tokens.access_token)).active, true);
    } finally {
      await second.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

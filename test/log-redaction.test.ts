import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { createLogger } from '../src/logger.ts';
import * as oidc from 'openid-client';
import { tlsAgent } from './support/assent.ts';
import { CustomerAgent } from './support/customer-agent.ts';
import { createTestCustomer } from './support/customers.ts';
import { createTestTpp, pushAuthorizationRequest, redeemCode } from './support/tpp.ts';
import { useAssent } from './support/fixture.ts';

const SECRET_FIELDS = ['client_assertion', 'code', 'code_verifier', 'refresh_token', 'token', 'request'];

/** Every credential the TPP puts on the wire, read from its requests as they leave. */
function recordSecrets(config: oidc.Configuration, interactionId: string, secrets: Set<string>) {
  const send = config[oidc.customFetch]!;
  config[oidc.customFetch] = (url, options) => {
    const headers = new Headers(options.headers as ConstructorParameters<typeof Headers>[0]);
    for (const name of ['authorization', 'dpop']) {
      const value = headers.get(name);
      if (value) secrets.add(value.replace(/^(DPoP|Bearer) /, ''));
    }
    if (typeof options.body === 'string' || options.body instanceof URLSearchParams) {
      for (const [name, value] of new URLSearchParams(options.body)) if (SECRET_FIELDS.includes(name)) secrets.add(value);
    }
    headers.set('x-fapi-interaction-id', interactionId);
    return send(url, { ...options, headers: Object.fromEntries(headers) });
  };
}

describe('logs of a full flow hold no secret', () => {
  const lines: string[] = [];
  const assent = useAssent(
    { LOG_LEVEL: 'trace' },
    {
      logDestination: {
        write: (line: string) => {
          lines.push(line);
        },
      },
    },
  );

  test('tokens, codes, passwords, client assertions, DPoP proofs, request objects and server keys never reach a log line', async () => {
    const secrets = new Set<string>();
    const interactionId = randomUUID();
    const tpp = await createTestTpp(assent);
    recordSecrets(tpp.config, interactionId, secrets);
    const customer = await createTestCustomer(assent.db);
    secrets.add(customer.password);
    const dpopKeys = await oidc.randomDPoPKeyPair('ES256');
    const dpop = oidc.getDPoPHandle(tpp.config, dpopKeys);

    // A failed sign-in first: its password is a secret too.
    const failed = await pushAuthorizationRequest(tpp, {}, { DPoP: dpop });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const login = await browser.open(failed.url);
    const wrongPassword = `wrong-${randomUUID()}`;
    secrets.add(wrongPassword);
    assert.equal((await browser.submit(login, 'login', { username: customer.username, password: wrongPassword })).status, 401);

    const request = await pushAuthorizationRequest(tpp, {}, { DPoP: dpop });
    const callback = await new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer).authorize(request.url, customer);
    secrets.add(callback.searchParams.get('code')!);
    const tokens = await redeemCode(tpp, callback, request, { dpop });
    secrets.add(tokens.access_token);
    secrets.add(tokens.refresh_token!);
    secrets.add(tokens.id_token!);
    assert.equal((await oidc.tokenIntrospection(tpp.config, tokens.access_token)).active, true);
    await oidc.fetchUserInfo(tpp.config, tokens.access_token, customer.id, { DPoP: dpop });
    const refreshed = await oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!, undefined, { DPoP: dpop });
    secrets.add(refreshed.access_token);
    await oidc.tokenRevocation(tpp.config, refreshed.access_token);
    // A replayed code is an error path the provider logs (and it revokes the grant, hence last).
    await assert.rejects(redeemCode(tpp, callback, request, { dpop }));

    const serverSecrets = await assent.db.selectFrom('server_secret').select('material').execute();
    for (const key of serverSecrets.map((row) => row.material as Record<string, unknown>)) {
      for (const field of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'key']) if (typeof key[field] === 'string') secrets.add(key[field]);
    }

    const log = lines.join('');
    assert.ok(secrets.size >= 20, `collected ${secrets.size} secrets`);
    for (const secret of secrets) {
      assert.ok(!log.includes(secret), `a secret reached the logs: ${secret.slice(0, 12)}...`);
      // A JWT's signature alone would still let someone check a guess; it must not appear either.
      const signature = secret.split('.')[2];
      if (signature) assert.ok(!log.includes(signature), 'a JWT signature reached the logs');
    }

    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = entries.filter((entry) => entry.msg === 'request completed');
    assert.ok(requests.length >= 10);
    for (const entry of requests) {
      assert.match(String(entry.reqId), /^[0-9a-f-]{36}$/);
      assert.match(String(entry.interactionId), /^[0-9a-f-]{36}$/);
    }
    const tokenCalls = requests.filter((entry) => entry.path === '/token');
    assert.ok(
      tokenCalls.length >= 3 && tokenCalls.every((entry) => entry.interactionId === interactionId),
      'the TPP-supplied interaction id is on its request lines',
    );
    const oauthError = entries.find((entry) => entry.msg === 'oauth error' && entry.error === 'invalid_grant');
    assert.ok(oauthError, 'the replayed code is logged as an OAuth error');
    assert.equal(oauthError.interactionId, interactionId);
    assert.ok(
      entries.some(
        (entry) => entry.msg === 'request received' && (entry.req as { headers: Record<string, string> }).headers.dpop === '[redacted]',
      ),
    );
  });
});

test('redaction hides codes that are credentials, not error codes', () => {
  const lines: string[] = [];
  const logger = createLogger('info', {
    write: (line: string) => {
      lines.push(line);
    },
  });
  logger.error({ err: Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }) }, 'query failed');
  logger.info({ params: { code: 'authorization-code-value' }, body: { code: '123456' } }, 'request');
  const [failure, request] = lines.map((line) => JSON.parse(line) as Record<string, Record<string, unknown>>);
  assert.equal(failure!.err!.code, '57P01');
  assert.equal(request!.params!.code, '[redacted]');
  assert.equal(request!.body!.code, '[redacted]');
});

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer } from '../support/customers.ts';
import { callRegistration, dpopClientMetadata, issueSsa, tppFromRegistration } from '../support/onboarding.ts';
import { pushAuthorizationRequest, type TestTpp } from '../support/tpp.ts';
import { useAssent } from '../support/fixture.ts';

type LogLine = Record<string, unknown>;

describe('security events: structured log lines for a SIEM, and their counters', () => {
  const lines: string[] = [];
  let tpp: TestTpp;
  let dpop: oidc.DPoPHandle;

  const adminCall = async (route: string, json: unknown) => {
    const token = (await readFile(path.join(assent.dataDir, 'admin-token'), 'utf8')).trim();
    return fetch(`${assent.adminUrl}/admin/v1${route}`, {
      method: 'POST',
      dispatcher: tlsAgent(assent.ca.certPem),
      headers: { authorization: `Bearer ${token}`, 'x-assent-operator': 'ops.bob', 'content-type': 'application/json' },
      body: JSON.stringify(json),
    });
  };
  const passwordStep = async (username: string, password: string) => {
    const request = await pushAuthorizationRequest(tpp, {}, { DPoP: dpop });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    return (await browser.submit(await browser.open(request.url), 'login', { username, password })).status;
  };
  const events = (name: string) => lines.map((line) => JSON.parse(line) as LogLine).filter((line) => line.securityEvent === name);
  const metric = async (series: string) => {
    const text = await (await fetch(new URL('/metrics', assent.issuer), { dispatcher: tlsAgent(assent.ca.certPem) })).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  const assent = useAssent(
    { LOG_LEVEL: 'info', LOCKOUT_DURATION: '600' },
    {
      logDestination: {
        write: (line: string) => {
          lines.push(line);
        },
      },
    },
  );
  before(async () => {
    const kit = await issueSsa(assent, { orgId: 'org-events' });
    const registered = await callRegistration(assent, kit.agent, { json: dpopClientMetadata(kit) });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    tpp = await tppFromRegistration(assent, kit, String(registered.body.client_id));
    dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
  });

  test('a lockout is one line with a pseudonymous customer reference (never the id or username) and counts; the operator unlocks, disables and enables', async () => {
    const customer = await createTestCustomer(assent.db);
    const request = await pushAuthorizationRequest(tpp, {}, { DPoP: dpop });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const login = await browser.open(request.url);
    for (let attempt = 0; attempt < 5; attempt += 1)
      await browser.submit(login, 'login', { username: customer.username, password: 'wrong' });

    const [lockout] = events('customer.locked_out');
    assert.ok(lockout, 'the lockout was logged');
    assert.match(String(lockout.customerRef), /^[0-9a-f]{16}$/);
    const raw = lines.find((line) => line.includes('customer.locked_out'))!;
    assert.ok(!raw.includes(customer.id) && !raw.includes(customer.username), 'the customer is not named');
    assert.equal(await metric('assent_lockouts_total{factor="pwd"}'), 1);
    assert.equal(await metric('assent_sign_ins_total{factor="pwd",outcome="rejected"}'), 4);
    assert.equal(await metric('assent_sign_ins_total{factor="pwd",outcome="locked"}'), 1);

    // The operator lifts the lockout (customer:unlock): the right password passes again.
    assert.notEqual(await passwordStep(customer.username, customer.password), 200, 'still locked out');
    assert.equal((await adminCall(`/customers/${customer.username}/unlock`, {})).status, 200);
    assert.equal(await passwordStep(customer.username, customer.password), 200, 'the one-time code page');

    // A disabled customer (customer:disable) is refused like a wrong password, until enabled again.
    assert.equal((await adminCall(`/customers/${customer.id}/disable`, { reason: 'fraud suspected' })).status, 200);
    assert.equal(await passwordStep(customer.username, customer.password), 401);
    assert.equal((await adminCall(`/customers/${customer.id}/enable`, {})).status, 200);
    assert.equal(await passwordStep(customer.username, customer.password), 200);
  });

  test('an authorization code redeemed twice is logged as code.reused with the client id, and counted', async () => {
    const customer = await createTestCustomer(assent.db);
    const request = await pushAuthorizationRequest(tpp, {}, { DPoP: dpop });
    const callback = await new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer).authorize(request.url, customer);
    const checks = { pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce };
    await oidc.authorizationCodeGrant(tpp.config, callback, checks, undefined, { DPoP: dpop });
    await assert.rejects(oidc.authorizationCodeGrant(tpp.config, callback, checks, undefined, { DPoP: dpop }));
    assert.ok(
      events('code.reused').some((line) => line.clientId === tpp.clientId),
      'the reuse was logged',
    );
    assert.equal(await metric('assent_reuse_detected_total{kind="code"}'), 1);
  });

  test("an admin action and a suspended TPP's refused call are logged with the operator and the client id", async () => {
    const response = await adminCall(`/tpps/${tpp.clientId}/suspend`, { reason: 'licence withdrawn' });
    assert.equal(response.status, 200);
    const [suspended] = events('tpp.suspended');
    assert.deepEqual([suspended?.clientId, suspended?.actor], [tpp.clientId, { kind: 'operator', id: 'admin-token:ops.bob' }]);
    assert.ok(events('admin.action').some((line) => line.operation === 'tpp:suspend' && line.operator === 'ops.bob'));

    await assert.rejects(oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: dpop }));
    assert.ok(
      events('tpp.call_refused').some((line) => line.clientId === tpp.clientId),
      'the refused call was logged',
    );
    assert.ok(((await metric('assent_refused_client_calls_total')) ?? 0) >= 1);
  });
});

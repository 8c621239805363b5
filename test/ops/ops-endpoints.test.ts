import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer } from '../support/customers.ts';
import { ACCOUNT_ACCESS, ACCOUNT_ACCESS_V4, accountAccessRequest, ConsentApiClient } from '../support/consent-api.ts';
import { createTestTpp, pushAuthorizationRequest } from '../support/tpp.ts';
import { useAssent } from '../support/fixture.ts';

function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('health, readiness and metrics on the public port', () => {
  const assent = useAssent();

  const get = (path: string) => fetch(new URL(path, assent.issuer), { dispatcher: tlsAgent(assent.ca.certPem) });

  test('/healthz answers while the process is up; /readyz checks database, migrations and keys', async () => {
    assert.equal((await get('/healthz')).status, 200);
    const ready = await get('/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', checks: { database: true, migrations: true, keys: true, accepting: true } });
  });

  test('/readyz fails when a migration is missing', async () => {
    const [last] = (await assent.db
      .selectFrom('kysely_migration' as never)
      .select('name' as never)
      .orderBy('name' as never, 'desc')
      .limit(1)
      .execute()) as { name: string }[];
    await assent.db
      .deleteFrom('kysely_migration' as never)
      .where('name' as never, '=', last!.name as never)
      .execute();
    try {
      const response = await get('/readyz');
      assert.equal(response.status, 503);
      assert.equal(((await response.json()) as { checks: { migrations: boolean } }).checks.migrations, false);
    } finally {
      await assent.db
        .insertInto('kysely_migration' as never)
        .values({ name: last!.name, timestamp: new Date().toISOString() } as never)
        .execute();
    }
  });

  test('/metrics counts requests per route, tokens by grant type, login failures and pool usage', async () => {
    const tpp = await createTestTpp(assent, { auth: 'tls_client_auth' });
    const issued = await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' });
    await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' });
    assert.equal((await oidc.tokenIntrospection(tpp.config, issued.access_token)).active, true);
    assert.equal((await oidc.tokenIntrospection(tpp.config, 'not-a-token')).active, false);

    const customer = await createTestCustomer(assent.db);
    const request = await pushAuthorizationRequest(tpp);
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const login = await browser.open(request.url);
    const refused = await browser.submit(login, 'login', { username: customer.username, password: 'wrong' });
    assert.equal(refused.status, 401);

    const response = await get('/metrics');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    const metrics = await response.text();
    assert.equal(sample(metrics, 'assent_tokens_issued_total{grant_type="client_credentials"}'), 2);
    assert.equal(sample(metrics, 'assent_http_requests_total{method="POST",route="/token",standard="none",status="200"}'), 2);
    assert.equal(sample(metrics, 'assent_http_requests_total{method="POST",route="/request",standard="none",status="201"}'), 1);
    assert.equal(sample(metrics, 'assent_login_failures_total{reason="invalid_credentials"}'), 1);
    assert.equal(sample(metrics, 'assent_sign_ins_total{factor="pwd",outcome="rejected"}'), 1);
    assert.equal(sample(metrics, 'assent_introspections_total{result="active"}'), 1);
    assert.equal(sample(metrics, 'assent_introspections_total{result="inactive"}'), 1);
    assert.match(metrics, /^# TYPE assent_consents gauge$/m, 'consents by type and status are exposed');
    assert.equal(sample(metrics, 'assent_http_request_duration_seconds_count{method="POST",route="/token",standard="none"}'), 2);
    assert.ok((sample(metrics, 'assent_db_pool_connections') ?? 0) >= 1);
    assert.ok(!metrics.includes(login.url.pathname.split('/')[2]!), 'interaction uids never become labels');
  });

  test('route labels come from the matched route: consent API, bank API, dashboard and registration are not `other`', async () => {
    const id = '3f1c2b4a-0000-4000-8000-000000000001';
    assert.equal((await get(`/open-banking/v3.1/aisp/account-access-consents/${id}`)).status, 401);
    assert.equal((await get(`/bank/consents/${id}`)).status, 401);
    await get('/dashboard/login');
    const registration = await fetch(new URL('/register', assent.issuer), {
      method: 'POST',
      dispatcher: tlsAgent(assent.ca.certPem),
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(registration.status, 400);
    await get('/no-such-path');
    const metrics = await (await get('/metrics')).text();
    assert.equal(
      sample(
        metrics,
        'assent_http_requests_total{method="GET",route="/open-banking/v3.1/aisp/account-access-consents/:consentId",standard="uk_ob_v3",status="401"}',
      ),
      1,
    );
    assert.equal(
      sample(metrics, 'assent_http_requests_total{method="GET",route="/bank/consents/:consentId",standard="none",status="401"}'),
      1,
    );
    assert.match(metrics, /assent_http_requests_total\{method="GET",route="\/dashboard\/login",standard="none",status="\d+"\} 1/);
    assert.equal(sample(metrics, 'assent_http_requests_total{method="POST",route="/register",standard="none",status="400"}'), 1);
    assert.equal(
      sample(metrics, 'assent_http_requests_total{method="GET",route="other",standard="none",status="404"}'),
      1,
      'only the unknown path is other',
    );
  });

  test('request metrics tell UK OB v3.1 from v4.0 and the Berlin Group by their `standard` label', async () => {
    const tpp = await createTestTpp(assent);
    const api = await ConsentApiClient.create(assent, tpp);
    assert.equal((await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() })).status, 201);
    for (let i = 0; i < 2; i++) assert.equal((await api.call('POST', ACCOUNT_ACCESS_V4, { body: accountAccessRequest() })).status, 201);
    const refused = await get('/v1/consents/3f1c2b4a-0000-4000-8000-000000000002');
    assert.ok(refused.status >= 400 && refused.status < 500, `no QWAC: ${refused.status}`);
    const metrics = await (await get('/metrics')).text();
    const total = (standard: string) =>
      metrics
        .split('\n')
        .filter((line) => line.startsWith('assent_http_requests_total{') && line.includes(`standard="${standard}"`))
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
    assert.equal(
      sample(metrics, `assent_http_requests_total{method="POST",route="${ACCOUNT_ACCESS_V4}",standard="uk_ob_v4",status="201"}`),
      2,
    );
    assert.equal(total('uk_ob_v4'), 2, 'only the v4.0 calls are v4.0 traffic');
    assert.ok(
      (sample(metrics, `assent_http_requests_total{method="POST",route="${ACCOUNT_ACCESS}",standard="uk_ob_v3",status="201"}`) ?? 0) >= 1,
    );
    assert.equal(
      sample(metrics, `assent_http_request_duration_seconds_count{method="POST",route="${ACCOUNT_ACCESS_V4}",standard="uk_ob_v4"}`),
      2,
    );
    assert.match(
      metrics,
      /assent_http_requests_total\{method="GET",route="\/v1\/consents\/:consentId",standard="berlin_group",status="4\d\d"\} 1/,
    );
    assert.ok(total('none') > 0, 'the OAuth endpoints speak no dialect');
  });
});

describe('health and metrics on a separate internal port', () => {
  const assent = useAssent({ OPS_PORT: '0' });

  test('the internal port serves them over plain HTTP and the public port does not', async () => {
    assert.ok(assent.opsPort);
    const internal = `http://127.0.0.1:${assent.opsPort}`;
    assert.equal((await fetch(`${internal}/readyz`)).status, 200);
    assert.match(await (await fetch(`${internal}/metrics`)).text(), /assent_http_requests_total/);
    const dispatcher = tlsAgent(assent.ca.certPem);
    assert.equal((await fetch(new URL('/metrics', assent.issuer), { dispatcher })).status, 404);
  });
});

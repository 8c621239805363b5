import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fetch } from 'undici';
import { findRoute } from '../src/protocol/route-match.ts';
import { OB_API_PREFIX, RATE_LIMIT_POLICIES, type Route, ROUTES } from '../src/protocol/routes.ts';
import { openApiDocument } from '../src/consents/api/openapi.ts';
import { routeLabel } from '../src/ops/route-label.ts';
import { type TestAssent, startTestAssent, tlsAgent } from './support/assent.ts';

/** A concrete path for a template: every `:param` becomes an id that names nothing. */
const concrete = (route: Route) => route.path.replace(/:[A-Za-z]+/g, 'no-such-id');

/** What the stack answers for a path no router serves: Koa's bare 404. */
function unrouted(status: number, body: string) {
  return status === 404 && body === 'Not Found';
}

describe('the route table is what the server serves', () => {
  let assent: TestAssent;
  // Every policy allows one request a minute, so the second request to a limited route is refused.
  const limits = Object.fromEntries(RATE_LIMIT_POLICIES.map((policy) => [`RATE_LIMIT_${policy.toUpperCase()}`, '1/60']));
  before(async () => {
    assent = await startTestAssent(limits);
  });
  after(async () => {
    await assent?.stop();
  });

  const call = async (route: Route) => {
    const response = await fetch(`${assent.issuer}${concrete(route)}`, {
      method: route.method,
      redirect: 'manual',
      ...(route.method === 'POST' || route.method === 'PUT' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
      dispatcher: tlsAgent(assent.ca.certPem),
    });
    return { status: response.status, body: await response.text() };
  };

  test('a path that is not a route is recognisably unrouted (so the checks below can fail)', async () => {
    const { status, body } = await call({ method: 'POST', path: '/reg', servedBy: 'engine', caller: 'anyone', purpose: 'the old, wrong registration path' });
    assert.ok(unrouted(status, body), `${status} ${body}`);
    assert.equal(findRoute('POST', '/reg'), undefined);
  });

  test('every route in the table is mounted', async () => {
    for (const route of ROUTES.filter((candidate) => !candidate.rateLimit)) {
      const { status, body } = await call(route);
      assert.ok(!unrouted(status, body), `${route.method} ${route.path} is not served: ${status} ${body}`);
      assert.ok(status < 500, `${route.method} ${route.path} answered ${status}`);
    }
  });

  test('every rate-limited route answers, then is limited', async () => {
    const limited = ROUTES.filter((route) => route.rateLimit);
    assert.deepEqual(new Set(limited.map((route) => route.rateLimit)), new Set(RATE_LIMIT_POLICIES), 'every policy guards a route');
    // The dashboard's sign-in (GET /dashboard/login above) pushes its own request: start from fresh counters.
    await assent.db.deleteFrom('rate_limit').execute();
    for (const route of limited) {
      const first = await call(route);
      assert.ok(!unrouted(first.status, first.body) && first.status !== 429, `${route.method} ${route.path} first answer: ${first.status} ${first.body}`);
      const second = await call(route);
      assert.equal(second.status, 429, `${route.method} ${route.path} (${route.rateLimit}) is not limited`);
    }
  });

  test('metric labels are the table\'s templates', () => {
    assert.equal(routeLabel('/register'), '/register');
    assert.equal(routeLabel('/register/abc'), '/register/:clientId');
    assert.equal(routeLabel('/interaction/abc/login'), '/interaction/:uid/login');
    assert.equal(routeLabel('/reg'), 'other');
    assert.equal(routeLabel('/nowhere/at/all'), 'other');
  });
});

test('the table names each method on each path once', () => {
  const keys = ROUTES.map((route) => `${route.method} ${route.path}`);
  assert.deepEqual(keys.filter((key, index) => keys.indexOf(key) !== index), []);
});

test('every operation of the OpenAPI document is a route of the table', () => {
  const { paths } = openApiDocument('https://assent.example') as { paths: Record<string, Record<string, unknown>> };
  const operations = Object.entries(paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path: `${OB_API_PREFIX}${path.replace(/\{(\w+)\}/g, 'x')}` })));
  assert.ok(operations.length >= 8, `${operations.length} operations`);
  for (const operation of operations) assert.ok(findRoute(operation.method, operation.path), `${operation.method} ${operation.path} is not in src/protocol/routes.ts`);
});

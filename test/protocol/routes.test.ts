import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fetch } from 'undici';
import { findRoute } from '../../src/protocol/route-match.ts';
import { RATE_LIMIT_POLICIES, type Route, ROUTES } from '../../src/protocol/routes.ts';
import { openApiDocument, openApiPath } from '../../src/openapi/document.ts';
import { routeLabel } from '../../src/ops/route-label.ts';
import { tlsAgent } from '../support/assent.ts';
import { useAssent } from '../support/fixture.ts';

/** A concrete path for a template: every `:param` becomes an id that names nothing. */
const concrete = (route: Route) => route.path.replace(/:[A-Za-z]+/g, 'no-such-id');

/** What the stack answers for a path no router serves: Koa's bare 404. */
function unrouted(status: number, body: string) {
  return status === 404 && body === 'Not Found';
}

const JSON_TYPE = /^application\/([\w.-]+\+)?json\b/;
const documented = openApiDocument('https://assent.example');

/**
 * A route that answers JSON is a JSON API: it has an operationId (so the OpenAPI document has it) and
 * its answer is of a media type its operation declares. A page or a stylesheet is not documented.
 */
function assertDocumentedIfJson(route: Route, answer: { status: number; body: string; type: string }) {
  const mediaType = answer.type.split(';')[0]!.trim();
  if (JSON_TYPE.test(mediaType))
    assert.ok(
      route.operationId,
      `${route.method} ${route.path} answers JSON (${answer.status} ${answer.body}) but has no operationId in src/protocol/routes.ts`,
    );
  if (/^text\/(html|css)$/.test(mediaType))
    assert.equal(route.operationId, undefined, `${route.method} ${route.path} answers ${mediaType} yet is documented as a JSON API`);
  if (!route.operationId || answer.body === '') return;
  const operation = documented.paths[openApiPath(route.path)]?.[route.method.toLowerCase()] as {
    responses: Record<string, { content?: Record<string, unknown> }>;
  };
  const declared = new Set(Object.values(operation.responses).flatMap((response) => Object.keys(response.content ?? {})));
  assert.ok(
    declared.has(mediaType),
    `${route.method} ${route.path} answered ${answer.status} ${mediaType}, which its operation does not declare (${[...declared].join(', ')})`,
  );
}

describe('the route table is what the server serves', () => {
  // Every policy allows one request a minute, so the second request to a limited route is refused.
  const limits = Object.fromEntries(RATE_LIMIT_POLICIES.map((policy) => [`RATE_LIMIT_${policy.toUpperCase()}`, '1/60']));
  const assent = useAssent(limits);

  const call = async (route: Route) => {
    const response = await fetch(`${assent.issuer}${concrete(route)}`, {
      method: route.method,
      redirect: 'manual',
      // A customer's browser asks for HTML and posts forms; programs post JSON.
      ...(route.caller === 'customer'
        ? {
            headers: { accept: 'text/html', ...(route.method === 'POST' && { 'content-type': 'application/x-www-form-urlencoded' }) },
            ...(route.method === 'POST' && { body: '' }),
          }
        : route.method === 'POST' || route.method === 'PUT'
          ? { headers: { 'content-type': 'application/json' }, body: '{}' }
          : {}),
      dispatcher: tlsAgent(assent.ca.certPem),
    });
    return { status: response.status, body: await response.text(), type: response.headers.get('content-type') ?? '' };
  };

  test('a path that is not a route is recognisably unrouted (so the checks below can fail)', async () => {
    const { status, body } = await call({
      method: 'POST',
      path: '/reg',
      servedBy: 'engine',
      caller: 'anyone',
      purpose: 'the old, wrong registration path',
    });
    assert.ok(unrouted(status, body), `${status} ${body}`);
    assert.equal(findRoute('POST', '/reg'), undefined);
  });

  test('every route in the table is mounted', async () => {
    for (const route of ROUTES.filter((candidate) => !candidate.rateLimit)) {
      const answer = await call(route);
      assert.ok(!unrouted(answer.status, answer.body), `${route.method} ${route.path} is not served: ${answer.status} ${answer.body}`);
      assert.ok(answer.status < 500, `${route.method} ${route.path} answered ${answer.status}`);
      assertDocumentedIfJson(route, answer);
    }
  });

  test('every rate-limited route answers, then is limited', async () => {
    const limited = ROUTES.filter((route) => route.rateLimit);
    assert.deepEqual(new Set(limited.map((route) => route.rateLimit)), new Set(RATE_LIMIT_POLICIES), 'every policy guards a route');
    // The dashboard's sign-in (GET /dashboard/login above) pushes its own request: start from fresh counters.
    await assent.db.deleteFrom('rate_limit').execute();
    for (const route of limited) {
      const first = await call(route);
      assert.ok(
        !unrouted(first.status, first.body) && first.status !== 429,
        `${route.method} ${route.path} first answer: ${first.status} ${first.body}`,
      );
      assertDocumentedIfJson(route, first);
      const second = await call(route);
      assert.equal(second.status, 429, `${route.method} ${route.path} (${route.rateLimit}) is not limited`);
    }
  });

  test("metric labels are the table's templates", () => {
    assert.equal(routeLabel('/register'), '/register');
    assert.equal(routeLabel('/register/abc'), '/register/:clientId');
    assert.equal(routeLabel('/interaction/abc/login'), '/interaction/:uid/login');
    assert.equal(routeLabel('/reg'), 'other');
    assert.equal(routeLabel('/nowhere/at/all'), 'other');
  });
});

test('the table names each method on each path once', () => {
  const keys = ROUTES.map((route) => `${route.method} ${route.path}`);
  assert.deepEqual(
    keys.filter((key, index) => keys.indexOf(key) !== index),
    [],
  );
});

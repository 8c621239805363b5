import assert from 'node:assert/strict';
import { hash, type X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { Router } from '@koa/router';
import Koa from 'koa';
import type { Provider } from 'oidc-provider';
import { pino } from 'pino';
import request from 'supertest';
import type { Db } from '../../src/db/connect.ts';
import { adminRouter, type AdminRouterDeps } from '../../src/admin/admin-router.ts';
import { apiInventory } from '../../src/admin/admin-operations.ts';
import { assetRouter } from '../../src/app.ts';
import { deviceRouter, type DeviceRouterDeps } from '../../src/ciba/device-router.ts';
import { type DashboardDeps, dashboardRouter } from '../../src/dashboard/router.ts';
import { declaredRoutes, declaredRowOf } from '../../src/http/declared-routes.ts';
import type { DashboardSessionSources, TokenSources } from '../../src/http/route-guard.ts';
import type { Views } from '../../src/http/views.ts';
import { type InteractionDeps, interactionRouter } from '../../src/interactions/router.ts';
import type { OpenApiDocument } from '../../src/openapi/document.ts';
import { openApiRouter } from '../../src/openapi/openapi-router.ts';
import type { Metrics } from '../../src/ops/metrics.ts';
import { opsRouter } from '../../src/ops/ops-router.ts';
import type { ReadinessSources } from '../../src/ops/readiness.ts';
import { grantsApiRouter } from '../../src/grants/grants-router.ts';
import { bankApiRouter } from '../../src/bank/bank-router.ts';
import { aisRouter } from '../../src/berlin-group/ais-router.ts';
import { bankCalendar } from '../../src/berlin-group/bg-bank-time.ts';
import { pisRouter } from '../../src/berlin-group/pis-router.ts';
import { consentApiRouter } from '../../src/consent-api/consent-router.ts';
import type { AccountDirectory } from '../../src/customers/account-directory.ts';
import { eventsApiRouter } from '../../src/events/api/events-router.ts';
import { credentialOf, type Route, ROUTES } from '../../src/protocol/routes.ts';
import { SCOPE } from '../../src/protocol/scopes.ts';

/**
 * Assent's routes are mounted only through the route table (src/http/declared-routes.ts), behind the
 * guard its credential names (src/http/route-guard.ts). No database: a route's mount and its guard are
 * checked against a provider whose token models are stand-ins.
 */

const NO_TOKENS: TokenSources = { provider: {} as Provider, presentedCertificate: () => undefined };
const undeclared: Route = {
  method: 'GET',
  path: '/undeclared',
  servedBy: 'assent',
  caller: 'tpp',
  purpose: 'a TPP route whose row forgot its credential',
  operationId: 'getUndeclared',
};

/** A customer's page whose row does not say whether a live interaction or the dashboard's session proves its caller. */
const undeclaredPage: Route = { method: 'GET', path: '/undeclared-page', servedBy: 'assent', caller: 'customer', purpose: 'a page' };
const SIGNED_OUT_SESSIONS: DashboardSessionSources = {
  resumeSession: async () => undefined,
  signedOut: (ctx) => {
    ctx.status = 401;
    ctx.body = 'the sign-in page';
  },
  csrf: { tokenFor: () => 'token', matches: () => false },
};
const EVERY_SOURCE = {
  ...NO_TOKENS,
  dashboardSession: SIGNED_OUT_SESSIONS,
  interaction: { interactionOfBrowser: () => 'uid', csrf: SIGNED_OUT_SESSIONS.csrf },
  operator: { authenticateOperator: () => ({ name: 'operator' }) },
};

describe('a route is mounted only through its row of the route table', () => {
  test('a route without a declared credential cannot be mounted: the mount throws at start-up', () => {
    assert.throws(
      () => declaredRoutes(new Router(), NO_TOKENS, [undeclared]).client('getUndeclared', () => undefined),
      /declares no credential/,
    );
    assert.throws(
      () => declaredRoutes(new Router(), undefined, [undeclared]).open('GET /undeclared', () => undefined),
      /declares no credential/,
    );
    // A customer proves themselves in several ways, so a customer's row without its credential mounts nowhere.
    const routes = declaredRoutes(new Router(), EVERY_SOURCE, [undeclaredPage]);
    for (const mount of [routes.customer, routes.interaction, routes.open] as const)
      assert.throws(() => mount('GET /undeclared-page', () => undefined), /declares no credential/);
  });

  test("a row's credential that its mount does not check throws at start-up", () => {
    const routes = declaredRoutes(new Router(), EVERY_SOURCE);
    const cases: [() => void, RegExp][] = [
      [() => routes.customer('getGrant', () => undefined), /client_credentials_token, which the route guard does not check/],
      [() => routes.interaction('GET /dashboard', () => undefined), /dashboard_session, which the route guard does not check/],
      [() => routes.customer('GET /interaction/:uid', () => undefined), /interaction, which the route guard does not check/],
      [() => routes.client('listDecoupledRequests', () => undefined), /dashboard_session, which the route guard does not check/],
      [() => routes.open('GET /dashboard', () => undefined), /dashboard_session: mount it guarded/],
      [() => routes.open('POST /interaction/:uid/login', () => undefined), /interaction: mount it guarded/],
      [() => routes.customer('GET /dashboard/login', () => undefined), /none, which the route guard does not check/],
    ];
    for (const [mount, refusal] of cases) assert.throws(mount, refusal);
    const admin = declaredRoutes(new Router(), EVERY_SOURCE, apiInventory());
    assert.throws(
      () => admin.customer('GET /admin/v1/inventory', () => undefined),
      /admin_credentials, which the route guard does not check/,
    );
    assert.throws(() => admin.open('GET /admin/v1/inventory', () => undefined), /admin_credentials: mount it guarded/);
    // A router that was not given how to check the credential cannot mount its rows.
    assert.throws(() => declaredRoutes(new Router()).customer('GET /dashboard', () => undefined), /needs the dashboard's sessions/);
    assert.throws(
      () => declaredRoutes(new Router()).interaction('GET /interaction/:uid', () => undefined),
      /needs the provider's interaction cookie/,
    );
    assert.throws(
      () => declaredRoutes(new Router(), {}, apiInventory()).operator('GET /admin/v1/inventory', () => undefined),
      /needs the admin API's credentials/,
    );
    assert.throws(() => declaredRoutes(new Router()).client('getGrant', () => undefined), /needs the provider's token models/);
  });

  test("a route that is not in the table, or is the engine's, cannot be mounted", () => {
    assert.throws(() => declaredRoutes(new Router(), NO_TOKENS).client('getNothingAtAll', () => undefined), /not in the route table/);
    assert.throws(() => declaredRoutes(new Router()).open('getJwks', () => undefined), /served by the engine/);
  });

  test('a route is mounted only as its credential says: a token route never open, an open route never guarded', () => {
    assert.throws(() => declaredRoutes(new Router()).open('getGrant', () => undefined), /client_credentials_token: mount it guarded/);
    assert.throws(
      () => declaredRoutes(new Router(), NO_TOKENS).client('getLiveness', () => undefined),
      /none, which the route guard does not check/,
    );
  });

  test("a declared route answers at its row's method and path, guarded (not 404)", async () => {
    const app = new Koa();
    app.use(grantsApiRouter({ ...NO_TOKENS, db: {} as Db, logger: pino({ level: 'silent' }) }).routes());
    const anonymous = await request(app.callback()).get('/grants/any-grant');
    assert.equal(anonymous.status, 401);
    assert.deepEqual(anonymous.body, { error: 'invalid_token', error_description: 'an access token is required' });
    assert.equal(anonymous.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="an access token is required"');
    assert.equal(
      (await request(app.callback()).post('/grants/any-grant')).status,
      404,
      'a method the table does not declare is not served',
    );

    const open = new Router();
    declaredRoutes(open).open('getLiveness', (ctx) => {
      ctx.body = { status: 'ok' };
    });
    const liveness = ROUTES.find((route) => route.operationId === 'getLiveness')!;
    assert.equal((await request(new Koa().use(open.routes()).callback()).get(liveness.path)).status, 200);
  });
});

/** A dashboard page and its JSON twin behind the session guard, each answering what the guard put on the state. */
function dashboardApp(sessions: DashboardSessionSources) {
  const router = new Router();
  const routes = declaredRoutes(router, { dashboardSession: sessions });
  routes.customer('GET /dashboard', (ctx) => {
    ctx.body = { customer: ctx.state.customer, csrfToken: (ctx.state as { csrfToken?: string }).csrfToken };
  });
  routes.customer('listDecoupledRequests', (ctx) => {
    ctx.body = { customer: ctx.state.customer };
  });
  return request(new Koa().use(router.routes()).callback());
}

describe("the dashboard's session guard answers a signed-out caller as its surface does and puts the customer on the state", () => {
  test('a page: the signed-out answer; the JSON twin: 401 login_required in JSON', async () => {
    const page = await dashboardApp(SIGNED_OUT_SESSIONS).get('/dashboard');
    assert.equal(page.status, 401);
    assert.equal(page.text, 'the sign-in page');
    const json = await dashboardApp(SIGNED_OUT_SESSIONS).get('/dashboard/api/decoupled-requests');
    assert.equal(json.status, 401);
    assert.deepEqual(json.body, { error: 'login_required', error_description: 'sign in to the dashboard first' });
  });

  test("signed in: the handlers read the customer, a page's forms get the CSRF token bound to the session", async () => {
    const customer = { sessionId: 'session-1', customerId: 'customer-1' };
    const signedIn = dashboardApp({
      ...SIGNED_OUT_SESSIONS,
      resumeSession: async () => customer,
      csrf: { tokenFor: (binding) => binding, matches: () => false },
    });
    assert.deepEqual((await signedIn.get('/dashboard')).body, { customer, csrfToken: 'dashboard:session-1' });
    assert.deepEqual((await signedIn.get('/dashboard/api/decoupled-requests')).body, { customer });
  });
});

test("every row Assent serves itself (servedBy assent or admin) is mounted from its row, behind its credential's guard, by Assent's routers", () => {
  const stub = {} as never;
  const deps = {
    ...NO_TOKENS,
    db: {} as Db,
    logger: pino({ level: 'silent' }),
    accounts: {} as AccountDirectory,
    longPollSeconds: 1,
    bankTimeZone: 'UTC',
  };
  const calendar = bankCalendar('UTC');
  const routers = [
    consentApiRouter(deps),
    eventsApiRouter(deps),
    bankApiRouter(deps),
    grantsApiRouter(deps),
    opsRouter({ metrics: stub as Metrics, readiness: stub as ReadinessSources }),
    openApiRouter(stub as OpenApiDocument),
    assetRouter(stub as Views),
    interactionRouter({
      ...deps,
      views: stub,
      find: stub,
      authentication: stub,
      csrf: stub,
      idleTimeoutSeconds: 300,
    } satisfies InteractionDeps),
    dashboardRouter({ ...deps, ...(stub as DashboardDeps) }),
    deviceRouter({ ...deps, ...(stub as DeviceRouterDeps) }),
    adminRouter({ ...deps, ...(stub as AdminRouterDeps) }),
    aisRouter({ ...deps, issuer: 'https://assent.example', eidasTpp: () => stub, decoupled: undefined, calendar }),
    pisRouter({ ...deps, issuer: 'https://assent.example', eidasTpp: () => stub, decoupled: undefined, calendar }),
  ];
  const layers = routers.flatMap((router) => router.stack.filter((layer) => layer.methods.length > 0));
  const mounted = layers.map((layer) => {
    const row = declaredRowOf(layer.stack[0]);
    const key = `${layer.methods.find((method) => method !== 'HEAD')} ${layer.path}`;
    assert.ok(row, `${key} is mounted behind a guard that names its row`);
    assert.equal(`${row.method} ${row.path}`, key, `${key} is mounted at its row's method and path`);
    return key;
  });
  const served = apiInventory().filter((route) => route.servedBy !== 'engine');
  assert.deepEqual(mounted.toSorted(), served.map((route) => `${route.method} ${route.path}`).toSorted());
});

const certificate = { raw: Buffer.from('the client certificate') } as X509Certificate;

/** A provider holding one mTLS-bound client_credentials token of a client of `kind` registered for `registered`. */
function tokensOf(kind: 'tpp' | 'resource_server', tokenScope: string, registered: string): TokenSources {
  const token = { clientId: 'client-1', scope: tokenScope, 'x5t#S256': hash('sha256', certificate.raw, 'base64url') };
  const client = { scope: registered, metadata: () => ({ client_kind: kind }) };
  return {
    provider: { ClientCredentials: { find: async () => token }, Client: { find: async () => client } } as unknown as Provider,
    presentedCertificate: () => ({ certificate, authorized: true }),
  };
}

/** GET /grants/:grantId with that token, through the real Grant Management router. */
function callGrants(tokens: TokenSources) {
  const app = new Koa();
  app.use(grantsApiRouter({ ...tokens, db: {} as Db, logger: pino({ level: 'silent' }) }).routes());
  return request(app.callback()).get('/grants/any-grant').set('authorization', 'Bearer the-token');
}

test('every token route of the table is mounted behind the guard, and only there', () => {
  const deps = {
    ...NO_TOKENS,
    db: {} as Db,
    logger: pino({ level: 'silent' }),
    accounts: {} as AccountDirectory,
    longPollSeconds: 1,
    bankTimeZone: 'UTC',
  };
  const routers = [consentApiRouter(deps), eventsApiRouter(deps), bankApiRouter(deps), grantsApiRouter(deps)];
  const mounted = routers.flatMap((router) =>
    router.stack
      .filter((layer) => layer.methods.length > 0)
      .map((layer) => ({
        key: `${layer.methods.find((method) => method !== 'HEAD')} ${layer.path}`,
        guarded: layer.stack.some((middleware) => middleware.name === 'guardRoute'),
      })),
  );
  const TOKEN_KINDS = new Set(['client_credentials_token', 'customer_access_token']);
  const tokenRoutes = ROUTES.filter((route) => route.servedBy === 'assent' && TOKEN_KINDS.has(credentialOf(route)?.kind ?? 'none'));
  assert.deepEqual(
    mounted.filter((layer) => !layer.guarded),
    [],
    'mounted without the guard',
  );
  assert.deepEqual(mounted.map((layer) => layer.key).toSorted(), tokenRoutes.map((route) => `${route.method} ${route.path}`).toSorted());
});

describe('the guard reads the row: client kind, then scope, then the registration behind the scope', () => {
  test("a client of another kind than the row's caller is refused, whatever its scope", async () => {
    const answer = await callGrants(tokensOf('resource_server', SCOPE.grantManagementQuery, SCOPE.grantManagementQuery));
    assert.equal(answer.status, 403);
    assert.deepEqual(answer.body, { error: 'insufficient_scope', error_description: 'this API is for TPPs' });
  });

  test("a token without the row's scope is refused with the scope in the challenge", async () => {
    const answer = await callGrants(tokensOf('tpp', SCOPE.accounts, `${SCOPE.accounts} ${SCOPE.grantManagementQuery}`));
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error_description, 'the access token lacks the grant_management_query scope');
    assert.equal(answer.headers['www-authenticate'], 'Bearer error="insufficient_scope", scope="grant_management_query"');
  });

  test('a live token is refused once its client is no longer registered for the scope (a TPP that lost a role)', async () => {
    const answer = await callGrants(tokensOf('tpp', SCOPE.grantManagementQuery, SCOPE.accounts));
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error_description, 'this client is no longer registered for the grant_management_query scope');
  });
});

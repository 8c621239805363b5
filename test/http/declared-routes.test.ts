import assert from 'node:assert/strict';
import { hash, type X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { Router } from '@koa/router';
import Koa from 'koa';
import type { Provider } from 'oidc-provider';
import { pino } from 'pino';
import request from 'supertest';
import type { Db } from '../../src/db/connect.ts';
import { declaredRoutes } from '../../src/http/declared-routes.ts';
import type { TokenSources } from '../../src/http/route-guard.ts';
import { grantsApiRouter } from '../../src/grants/grants-router.ts';
import { bankApiRouter } from '../../src/bank/bank-router.ts';
import { consentApiRouter } from '../../src/consents/api/consent-router.ts';
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
  const deps = { ...NO_TOKENS, db: {} as Db, logger: pino({ level: 'silent' }), accounts: {} as AccountDirectory, longPollSeconds: 1 };
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

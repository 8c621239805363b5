import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Router as KoaRouter } from '@koa/router';
import EngineRouter from 'oidc-provider/lib/helpers/router.js';
import { pino } from 'pino';
import { fetch } from 'undici';
import { ADMIN_API_PREFIX, apiInventory } from '../../src/admin/admin-operations.ts';
import { adminRouter } from '../../src/admin/admin-router.ts';
import type { Config } from '../../src/config.ts';
import { openApiDocument } from '../../src/openapi/document.ts';
import { tlsAgent } from '../support/assent.ts';
import { runAdmin } from '../support/onboarding.ts';
import { useAssent } from '../support/fixture.ts';

/**
 * The inventory is the truth: every route actually mounted (Assent's Koa routers, oidc-provider's own
 * router, the admin API's router) is in it, and every entry of it is mounted. A route missing from the
 * table is a shadow endpoint; an entry with no route a zombie.
 */

// OPTIONS is CORS preflight and HEAD rides on GET: neither is an endpoint of its own.
const counted = (method: string) => method !== 'OPTIONS' && method !== 'HEAD';

// oidc-provider keeps its routes in private fields: record them as its router registers them.
const engineRoutes = new Set<string>();
for (const method of ['get', 'post', 'put', 'delete', 'options'] as const) {
  const original = EngineRouter.prototype[method];
  EngineRouter.prototype[method] = function record(this: EngineRouter, name: string, route: string, ...middleware: unknown[]) {
    if (counted(method.toUpperCase())) engineRoutes.add(`${method.toUpperCase()} ${route}`);
    return original.call(this, name, route, ...middleware);
  };
}

function koaRoutes(routers: KoaRouter[]): Set<string> {
  const found = new Set<string>();
  for (const router of routers) {
    for (const layer of router.stack) for (const method of layer.methods) if (counted(method)) found.add(`${method} ${layer.path}`);
  }
  return found;
}

describe('the API inventory', () => {
  const assent = useAssent();

  test('every mounted route is in the inventory (no shadow) and every entry is mounted (no zombie)', async () => {
    // Serve one request so the provider has built its router, then read what every router mounted.
    await fetch(`${assent.issuer}/jwks`, { dispatcher: tlsAgent(assent.ca.certPem) });
    const publicRouters = assent.app.middleware
      .map((middleware) => (middleware as { router?: KoaRouter }).router)
      .filter((router) => router !== undefined);
    assert.ok(publicRouters.length >= 5, 'the consent API, bank API, interaction, dashboard and asset routers are found');
    const admin = adminRouter({ db: assent.db, config: {} as Config, logger: pino({ level: 'silent' }), token: 'unused', openApi: {} });
    assert.ok(engineRoutes.size >= 10, `the engine's routes were recorded: ${[...engineRoutes].join(', ')}`);

    const mounted = new Set([...engineRoutes, ...koaRoutes(publicRouters), ...koaRoutes([admin])]);
    const declared = new Set(apiInventory().map((route) => `${route.method} ${route.path}`));
    assert.deepEqual(
      [...mounted].filter((route) => !declared.has(route)).toSorted(),
      [],
      'shadow endpoints: mounted but not in the inventory',
    );
    assert.deepEqual(
      [...declared].filter((route) => !mounted.has(route)).toSorted(),
      [],
      'zombie entries: in the inventory but not mounted',
    );

    // The OpenAPI document (as served) describes mounted routes only, and every JSON API of the inventory.
    const agent = tlsAgent(assent.ca.certPem);
    const served = (await (await fetch(`${assent.issuer}/openapi.json`, { dispatcher: agent })).json()) as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    const operations = Object.entries(served.paths).flatMap(([template, item]) =>
      Object.entries(item).flatMap(([method, operation]) =>
        operation.operationId
          ? [{ key: `${method.toUpperCase()} ${template.replace(/\{(\w+)\}/g, ':$1')}`, id: operation.operationId }]
          : [],
      ),
    );
    assert.deepEqual(
      operations.filter(({ key }) => !mounted.has(key)).map(({ key }) => key),
      [],
      'documented operations with no mounted route',
    );
    const json = apiInventory().filter((route) => route.operationId !== undefined);
    assert.deepEqual(
      json.filter((route) => !operations.some(({ id }) => id === route.operationId)).map((route) => `${route.method} ${route.path}`),
      [],
      'JSON APIs of the inventory missing from the document',
    );
    assert.equal(operations.length, json.length);
  });

  test('operators read it with `api:inventory` (the authenticated admin API); without the admin token it is refused', async () => {
    const lines = (await runAdmin(assent, ['api:inventory']))
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            method: string;
            path: string;
            caller: string;
            purpose: string;
            operationId?: string;
            credential?: { kind: string };
          },
      );
    assert.equal(lines.length, apiInventory().length);
    assert.ok(lines.some((route) => route.method === 'POST' && route.path === '/token' && route.caller === 'client'));
    // Each JSON API names its operation in /openapi.json and how its caller proves itself; pages name neither.
    const document = openApiDocument(assent.issuer);
    const documentedIds = Object.values(document.paths).flatMap((item) =>
      Object.values(item).flatMap((operation) => (operation as { operationId?: string }).operationId ?? []),
    );
    assert.deepEqual(lines.flatMap((route) => route.operationId ?? []).toSorted(), documentedIds.toSorted());
    assert.deepEqual(lines.find((route) => route.path === '/token')?.credential, { kind: 'client_authentication' });
    assert.deepEqual(lines.find((route) => route.method === 'GET' && route.path === '/grants/:grantId')?.credential, {
      kind: 'client_credentials_token',
      anyScopeOf: ['grant_management_query'],
    });
    assert.ok(
      lines
        .filter((route) => route.path.startsWith('/interaction/'))
        .every((route) => route.operationId === undefined && route.credential === undefined),
    );
    assert.ok(lines.some((route) => route.path === `${ADMIN_API_PREFIX}/inventory` && route.caller === 'operator'));
    const operatorsOnly = (await runAdmin(assent, ['api:inventory', '--caller', 'operator']))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { caller: string });
    assert.ok(operatorsOnly.length > 0 && operatorsOnly.every((route) => route.caller === 'operator'));

    const agent = tlsAgent(assent.ca.certPem);
    const anonymous = await fetch(`${assent.adminUrl}${ADMIN_API_PREFIX}/inventory`, { dispatcher: agent });
    assert.equal(anonymous.status, 401);
    const token = (await readFile(path.join(assent.dataDir, 'admin-token'), 'utf8')).trim();
    const authorised = await fetch(`${assent.adminUrl}${ADMIN_API_PREFIX}/inventory`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(authorised.status, 200);
    assert.match(authorised.headers.get('content-type') ?? '', /jsonl/);
  });
});

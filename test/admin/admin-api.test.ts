import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { fetch, request } from 'undici';
import { ADMIN_API_PREFIX, ADMIN_OPERATIONS } from '../../src/admin/admin-operations.ts';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { findCustomer } from '../../src/customers/customer-service.ts';
import { adminOpenApiDocument, openApiDocument } from '../../src/openapi/document.ts';
import { ensureDevPki, issueCertificate } from '../../src/http/dev-pki.ts';
import { type TestAssent, startTestAssent, tlsAgent } from '../support/assent.ts';
import { changedTables, databaseFingerprint } from '../support/db-fingerprint.ts';
import { useAssent } from '../support/fixture.ts';

describe('the admin API (HTTPS on its own loopback listener)', () => {
  let token: string;
  let agent: ReturnType<typeof tlsAgent>;

  const call = async (method: string, route: string, init: { token?: string; json?: unknown; operator?: string } = {}) => {
    const response = await fetch(`${assent.adminUrl}${route}`, {
      method,
      dispatcher: agent,
      headers: {
        ...(init.token !== undefined && { authorization: `Bearer ${init.token}` }),
        ...(init.operator && { 'x-assent-operator': init.operator }),
        ...(init.json !== undefined && { 'content-type': 'application/json' }),
      },
      ...(init.json !== undefined && { body: JSON.stringify(init.json) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
  };

  const assent = useAssent();
  before(async () => {
    token = (await readFile(path.join(assent.dataDir, 'admin-token'), 'utf8')).trim();
    agent = tlsAgent(assent.ca.certPem);
  });

  test('listens on loopback, apart from the public port', () => {
    const url = new URL(assent.adminUrl!);
    assert.equal(url.protocol, 'https:');
    assert.equal(url.hostname, '127.0.0.1');
    assert.notEqual(Number(url.port), assent.port);
  });

  test('a body over 64 KiB gets its error and a closed connection, not one left open (kept alive) with the body unread', async () => {
    const response = await request(`${assent.adminUrl}${ADMIN_API_PREFIX}/customers`, {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'x'.repeat(1_000_000) }),
    });
    assert.equal(response.statusCode, 413);
    assert.deepEqual(await response.body.json(), { error: 'invalid_request', error_description: 'the request body is too large' });
    assert.equal(response.headers.connection, 'close');
  });

  test('a body that is not a JSON object is an invalid_request naming why', async () => {
    for (const [contentType, body, description] of [
      ['text/plain', '{}', 'the body must be application/json'],
      ['application/json', '{', 'the body is not valid JSON'],
      ['application/json', '[1]', 'the body must be a JSON object'],
    ] as const) {
      const response = await request(`${assent.adminUrl}${ADMIN_API_PREFIX}/customers`, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
        body,
      });
      assert.equal(response.statusCode, 400, description);
      assert.deepEqual(await response.body.json(), { error: 'invalid_request', error_description: description });
    }
  });

  test("an unknown TPP is not_found, through the admin API's one table", async () => {
    for (const [method, route, json] of [
      ['POST', '/tpps/no-such-tpp/suspend', { reason: 'x' }],
      ['POST', '/tpps/no-such-tpp/reinstate', { reason: 'x' }],
      ['GET', '/tpps/no-such-tpp', undefined],
    ] as const) {
      const refused = await call(method, `${ADMIN_API_PREFIX}${route}`, { token, ...(json && { json }) });
      assert.deepEqual(
        [refused.status, refused.body],
        [404, { error: 'not_found', error_description: 'no TPP with client id no-such-tpp' }],
        `${method} ${route}`,
      );
    }
  });

  test('a NUL, an unpaired surrogate or a date Postgres cannot hold is a 400 naming it, before anything is read or written', async () => {
    const fingerprint = await databaseFingerprint(assent.db);
    for (const [method, route, json, expected] of [
      ['POST', '/customers', { username: 'nul\u0000', name: 'N' }, /NUL/],
      ['POST', '/customers', { username: 'ivy', name: 'Ivy \ud800' }, /unpaired surrogate/],
      ['POST', '/events/redeliveries', { events: ['e\u0000'] }, /NUL/],
      ['POST', `/tpps/${encodeURIComponent('tpp\u0000')}/suspend`, { reason: 'x' }, /NUL/],
      ['POST', '/tpps/tpp%ED%BF%BF/suspend', { reason: 'x' }, /not valid percent-encoded UTF-8/],
      ['GET', `/consents?from=${encodeURIComponent('-271821-04-20T00:00:00Z')}`, undefined, /^from: must be a day \(2026-12-01\)/],
      ['GET', '/audit/events?from=2026-12-01&to=0000-01-01T00:00:00Z', undefined, /^to: must be a day/],
      [
        'POST',
        '/customers/nobody/accounts',
        { identification: '12345678', name: 'Savings', currency: 'ABC' },
        /^currency: must be an ISO 4217 code/,
      ],
      ['POST', '/tokens/revocation', { from: '+275760-09-13T00:00:00Z', to: '2026-12-01', reason: 'bad release' }, /^from: must be a day/],
    ] as const) {
      const refused = await call(method, `${ADMIN_API_PREFIX}${route}`, { token, ...(json && { json }) });
      assert.equal(refused.status, 400, `${method} ${route}: ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.error, 'invalid_request');
      assert.match(String(refused.body.error_description), expected, route);
    }
    assert.deepEqual(changedTables(fingerprint, await databaseFingerprint(assent.db)), []);
    const days = await call('GET', `${ADMIN_API_PREFIX}/consents?from=2026-12-01&to=yesterday`, { token });
    assert.equal(days.status, 200, 'a day and a word people type are dates');
  });

  test('refuses calls without the admin token, or with a wrong one, and changes nothing', async () => {
    for (const presented of [undefined, 'wrong-token', `${token}x`]) {
      const response = await call('POST', `${ADMIN_API_PREFIX}/customers`, {
        ...(presented !== undefined && { token: presented }),
        json: { username: 'mallory', name: 'Mallory' },
      });
      assert.equal(response.status, 401);
      assert.equal(response.body.error, 'unauthorized');
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
    assert.equal(await findCustomer(assent.db, 'mallory'), undefined);
  });

  test('a change is audited with the operator who made it; bad input is a 400, a taken username a 409, an unknown route a 404', async () => {
    const created = await call('POST', `${ADMIN_API_PREFIX}/customers`, {
      token,
      operator: 'ops.alice',
      json: { username: 'erin', name: 'Erin' },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const history = await auditHistory(assent.db, 'customer', String(created.body.id));
    assert.deepEqual(
      history.map((entry) => [entry.event, entry.actor]),
      [['customer.created', { kind: 'operator', id: 'admin-token:ops.alice' }]],
    );

    const taken = await call('POST', `${ADMIN_API_PREFIX}/customers`, { token, json: { username: 'erin', name: 'Erin' } });
    assert.deepEqual([taken.status, taken.body], [409, { error: 'conflict', error_description: 'username erin is taken' }]);
    const invalid = await call('POST', `${ADMIN_API_PREFIX}/customers`, { token, json: { username: 'frank' } });
    assert.deepEqual([invalid.status, invalid.body.error], [400, 'invalid_request']);
    assert.match(String(invalid.body.error_description), /^name: /);
    assert.equal(await findCustomer(assent.db, 'frank'), undefined);
    const notJson = await fetch(`${assent.adminUrl}${ADMIN_API_PREFIX}/customers`, {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"username":',
    });
    assert.equal(notJson.status, 400);
    const unknown = await call('GET', `${ADMIN_API_PREFIX}/nothing-here`, { token });
    assert.deepEqual([unknown.status, unknown.body.error], [404, 'not_found']);
    const missing = await call('GET', `${ADMIN_API_PREFIX}/consents/00000000-0000-4000-8000-000000000000`, { token });
    assert.deepEqual([missing.status, missing.body.error], [404, 'not_found']);
  });

  test('the OpenAPI document describes every operation, and each described route exists', async () => {
    const response = await call('GET', '/admin/openapi.json');
    assert.equal(response.status, 200);
    const document = response.body as {
      openapi: string;
      paths: Record<string, Record<string, { 'x-cli-command'?: string; security: object[] }>>;
    };
    assert.equal(document.openapi, '3.1.0');
    assert.deepEqual(document, adminOpenApiDocument(openApiDocument(assent.issuer)), 'the admin part of the one generated document');
    const described = Object.values(document.paths)
      .flatMap((methods) => Object.values(methods).flatMap((entry) => entry['x-cli-command'] ?? []))
      .toSorted();
    assert.deepEqual(described, ADMIN_OPERATIONS.map((operation) => operation.name).toSorted());
    assert.deepEqual(document.paths['/admin/openapi.json']?.get?.security, [], 'the document itself is public');
    const ajv = new Ajv2020({ strict: false });
    for (const [route, methods] of Object.entries(document.paths)) {
      for (const [method, entry] of Object.entries(methods)) {
        if (entry.security.length === 0) continue;
        const schema = (entry as { requestBody?: { content: { 'application/json': { schema: object } } } }).requestBody?.content[
          'application/json'
        ].schema;
        if (schema) assert.ok(ajv.validateSchema(schema), `${method} ${route}: its body schema is valid JSON Schema`);
        // Unauthenticated, every described operation answers 401 (it exists), never 404.
        const concrete = route.replace(/\{(\w+)\}/g, '00000000-0000-4000-8000-000000000000');
        assert.equal((await call(method.toUpperCase(), concrete, method === 'post' ? { json: {} } : {})).status, 401, `${method} ${route}`);
      }
    }
  });
});

describe('the admin API with an admin client certificate', () => {
  let assent: TestAssent;
  let adminCaDir: string;
  let adminCa: { certPem: string; keyPem: string };

  before(async () => {
    adminCaDir = await mkdtemp(path.join(tmpdir(), 'assent-admin-ca-'));
    adminCa = (await ensureDevPki(adminCaDir)).ca;
    assent = await startTestAssent({ ADMIN_CLIENT_CA_FILE: path.join(adminCaDir, 'tls', 'ca.pem') });
  });
  after(async () => {
    await assent?.stop();
    await rm(adminCaDir, { recursive: true, force: true });
  });

  const createWith = async (certificate: { certPem: string; keyPem: string }, username: string) => {
    const response = await fetch(`${assent.adminUrl}${ADMIN_API_PREFIX}/customers`, {
      method: 'POST',
      dispatcher: tlsAgent(assent.ca.certPem, certificate),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, name: username }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  test('a certificate from ADMIN_CLIENT_CA_FILE authenticates its CN as the operator; one from another CA does not', async () => {
    const operatorCertificate = await issueCertificate(adminCa, { subject: 'CN=ops.carol,O=Bank operations', usage: 'client' });
    const created = await createWith(operatorCertificate, 'grace');
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const [event] = await auditHistory(assent.db, 'customer', String(created.body.id));
    assert.deepEqual(
      event?.actor,
      { kind: 'operator', id: 'client-certificate:ops.carol' },
      'a name the certificate proves, recorded apart from one the shared token only claims',
    );

    const tppCertificate = await issueCertificate(assent.ca, { subject: 'CN=ops.carol,O=Some TPP', usage: 'client' });
    assert.equal((await createWith(tppCertificate, 'heidi')).status, 401, 'the server CA issues TPP certificates, not admin ones');
    assert.equal(await findCustomer(assent.db, 'heidi'), undefined);
  });
});

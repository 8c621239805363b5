import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { connectDatabase, type Db } from '../../src/db/connect.ts';
import { type AssentProcess, routeTo, spawnAssent } from '../support/assent-process.ts';
import { freePort } from '../support/free-port.ts';
import { tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer } from '../support/customers.ts';
import { createTestDatabase } from '../support/database.ts';
import { ACCOUNT_ACCESS, accountAccessRequest } from '../support/consent-api.ts';
import { createTestTpp, pushAuthorizationRequest, redeemCode } from '../support/tpp.ts';

/**
 * Requests a process logged for a route. Its stdout arrives a little after the response, so wait (up
 * to 5 s on a loaded machine) for the count the test expects before reading it.
 */
async function served(instance: AssentProcess, route: string, expected: number) {
  const count = () => instance.logs.filter((entry) => entry.msg === 'request completed' && entry.path === route).length;
  await sleep(100);
  for (let waited = 0; count() < expected && waited < 5000; waited += 100) await sleep(100);
  return count();
}

describe('two server processes on one Postgres', () => {
  let database: { url: string; drop(): Promise<void> };
  let dataDir: string;
  let db: Db;
  let first: AssentProcess;
  let second: AssentProcess;
  let issuer: string;
  let ca: { certPem: string; keyPem: string };

  before(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'assent-multi-'));
    const issuerPort = await freePort();
    issuer = `https://localhost:${issuerPort}`;
    const env = { DATABASE_URL: database.url, DATA_DIR: dataDir, DEV_MODE: 'true', SEED_DEMO: 'false', ISSUER: issuer };
    // One after the other: the first start writes the dev CA both use; keys are shared through the database.
    first = await spawnAssent({ ...env, PORT: String(issuerPort) });
    second = await spawnAssent(env);
    db = await connectDatabase({ databaseUrl: database.url, dataDir });
    ca = {
      certPem: await readFile(path.join(dataDir, 'tls', 'ca.pem'), 'utf8'),
      keyPem: await readFile(path.join(dataDir, 'tls', 'ca-key.pem'), 'utf8'),
    };
  });
  after(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await db?.destroy();
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('PAR and sign-in on the first, token on the second, introspection on the first', async () => {
    assert.equal(first.port, Number(new URL(issuer).port));
    const tpp = await createTestTpp({ issuer, ca, db }, { auth: 'tls_client_auth' });
    routeTo(tpp, '/token', second.port);
    const customer = await createTestCustomer(db);

    const request = await pushAuthorizationRequest(tpp);
    const callback = await new CustomerAgent(tlsAgent(ca.certPem), issuer).authorize(request.url, customer);
    const tokens = await redeemCode(tpp, callback, request);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');

    assert.equal(await served(second, '/token', 1), 1, 'the code was redeemed on the second process');
    assert.equal(await served(first, '/token', 0), 0);
    assert.equal(await served(first, '/request', 1), 1, 'the PAR went to the first process');

    const introspected = await oidc.tokenIntrospection(tpp.config, tokens.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.sub, customer.id);
    assert.equal(await served(first, '/token/introspection', 1), 1);

    // The ID token the second process signed verifies against the JWKS the first one publishes.
    assert.equal(tokens.claims()?.sub, customer.id);
  });

  test('a DPoP nonce one process hands out is good at the other, with nothing stored per nonce', async () => {
    const tpp = await createTestTpp({ issuer, ca, db });
    const exchanges: { port: string; path: string; status: number; issued: string | null; sent: unknown }[] = [];
    const send = tpp.config[oidc.customFetch]!;
    tpp.config[oidc.customFetch] = async (url, options) => {
      const response = await send(url, options);
      const proof = new Headers(options.headers as ConstructorParameters<typeof Headers>[0]).get('dpop');
      exchanges.push({
        port: new URL(url).port,
        path: new URL(url).pathname,
        status: response.status,
        issued: response.headers.get('dpop-nonce'),
        sent: proof ? decodeJwt(proof).nonce : undefined,
      });
      return response;
    };
    // The consent API on the second process (routed after the recording, so it records the port);
    // the token endpoint on the first (the engine checks htu against the Host it was reached at,
    // Assent's own APIs against the issuer).
    routeTo(tpp, ACCOUNT_ACCESS, second.port);
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const startedAt = new Date();

    // The first process challenges the token request and hands out a nonce; the second takes it at once.
    const firstHandle = oidc.getDPoPHandle(tpp.config, keys);
    const { access_token: token } = await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: firstHandle });
    const create = (handle: oidc.DPoPHandle) =>
      oidc.fetchProtectedResource(
        tpp.config,
        token,
        new URL(ACCOUNT_ACCESS, issuer),
        'POST',
        JSON.stringify(accountAccessRequest()),
        new Headers({ 'content-type': 'application/json' }),
        { DPoP: handle },
      );
    assert.equal((await create(firstHandle)).status, 201);
    // And the other way: the second process's nonce, taken by the first at its token endpoint.
    const secondHandle = oidc.getDPoPHandle(tpp.config, keys);
    assert.equal((await create(secondHandle)).status, 201);
    await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: secondHandle });

    const secondPort = String(second.port);
    assert.deepEqual(
      exchanges.map(({ port, path: at, status }) => [port === secondPort ? 'second' : 'first', at, status]),
      [
        ['first', '/token', 400],
        ['first', '/token', 200],
        ['second', ACCOUNT_ACCESS, 201],
        ['second', ACCOUNT_ACCESS, 401],
        ['second', ACCOUNT_ACCESS, 201],
        ['first', '/token', 200],
      ],
    );
    assert.equal(exchanges[2]!.sent, exchanges[0]!.issued, "the second process took the first one's nonce");
    assert.equal(exchanges[5]!.sent, exchanges[3]!.issued, "the first process took the second one's nonce");
    // Nothing but what any request stores (tokens, consents' rows, replay entries): the nonces are nowhere.
    const written = await db.selectFrom('oidc_model').select(['model', 'payload']).where('created_at', '>=', startedAt).execute();
    assert.deepEqual([...new Set(written.map((row) => row.model))].toSorted(), ['ClientCredentials', 'ReplayDetection']);
    const stored = JSON.stringify(written.map((row) => row.payload));
    assert.ok(!stored.includes(exchanges[0]!.issued!) && !stored.includes(exchanges[3]!.issued!));
  });

  test('SIGTERM: the listener closes at once, the in-flight request still completes, the process exits 0', async () => {
    const tpp = await createTestTpp({ issuer, ca, db }, { auth: 'tls_client_auth' });
    const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'accounts', client_id: tpp.clientId }).toString();
    let sendBody!: () => void;
    const slowBody = new ReadableStream<Uint8Array>({
      start(controller) {
        sendBody = () => {
          controller.enqueue(new TextEncoder().encode(body));
          controller.close();
        };
      },
    });
    // The request's headers reach the second process; its body is held back until after SIGTERM.
    const inFlight = fetch(`https://localhost:${second.port}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: slowBody,
      duplex: 'half',
      dispatcher: tpp.agent,
    });
    await sleep(300);
    second.child.kill('SIGTERM');
    await sleep(300);
    await assert.rejects(
      fetch(`https://localhost:${second.port}/healthz`, { dispatcher: tlsAgent(ca.certPem) }),
      'no new connections once draining',
    );
    assert.equal(second.child.exitCode, null, 'still running while a request is in flight');

    sendBody();
    const response = await inFlight;
    assert.equal(response.status, 200);
    const { access_token } = (await response.json()) as { access_token: string };
    assert.equal(await second.exited, 0);
    assert.ok(second.logs.some((entry) => entry.msg === 'shut down'));

    const introspected = await oidc.tokenIntrospection(tpp.config, access_token);
    assert.equal(introspected.active, true, 'the token issued during shutdown is valid on the other process');
  });
});

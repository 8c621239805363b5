import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { type Dispatcher, fetch } from 'undici';
import { loadConfig } from '../../src/config.ts';
import { connectDatabase, type Db } from '../../src/db/connect.ts';
import { issueCertificate } from '../../src/http/dev-pki.ts';
import { saveClient } from '../../src/store/clients.ts';
import { REDACTED, SPAN_ATTRIBUTES } from '../../src/ops/tracing.ts';
import { EVENT_API_PATHS, OB_API_PREFIX } from '../../src/protocol/routes.ts';
import { ACCOUNT_ACCESS, ConsentApiClient } from '../support/consent-api.ts';
import { type AssentProcess, spawnAssent } from '../support/assent-process.ts';
import { tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestDatabase } from '../support/database.ts';
import { freePort } from '../support/free-port.ts';
import { customerWithAccounts, grantConsent } from '../support/granted-consents.ts';
import { createTestTpp, fetchVia } from '../support/tpp.ts';

/** One span as OTLP/JSON carries it. */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}
const SERVER = 2;
const CLIENT = 3;
const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes?.find((entry) => entry.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : String(value.intValue));
};

/** Form fields of the TPP's requests that carry nothing secret (everything else it posts is). */
const NOT_SECRET = new Set(['client_id', 'client_assertion_type', 'grant_type', 'redirect_uri', 'scope', 'token_type_hint']);

/** An OTLP/HTTP receiver on loopback (JSON encoding): every export body as received, and the spans in them. */
async function otlpReceiver() {
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces') bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    spans: () =>
      bodies.flatMap((body) =>
        (JSON.parse(body) as { resourceSpans: { scopeSpans: { scope: { name: string }; spans: OtlpSpan[] }[] }[] }).resourceSpans.flatMap(
          (resource) => resource.scopeSpans.flatMap((scope) => scope.spans.map((span) => ({ ...span, scope: scope.scope.name }))),
        ),
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('OpenTelemetry tracing of a complete flow, exported to an OTLP receiver', () => {
  let database: { url: string; drop(): Promise<void> };
  let dataDir: string;
  let db: Db;
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  let assent: AssentProcess;
  let issuer: string;
  let ca: { certPem: string; keyPem: string };

  before(async () => {
    receiver = await otlpReceiver();
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'assent-tracing-'));
    const port = await freePort();
    issuer = `https://localhost:${port}`;
    assent = await spawnAssent({
      PORT: String(port),
      ISSUER: issuer,
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      DEV_MODE: 'true',
      SEED_DEMO: 'false',
      OUTBOUND_ALLOWED_HOSTS: 'localhost',
      OTEL_SERVICE_NAME: 'assent-under-test',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // The batch goes out at shutdown in any case; sooner keeps a failure's output readable.
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    db = await connectDatabase({ databaseUrl: database.url, dataDir });
    ca = {
      certPem: await readFile(path.join(dataDir, 'tls', 'ca.pem'), 'utf8'),
      keyPem: await readFile(path.join(dataDir, 'tls', 'ca-key.pem'), 'utf8'),
    };
  });
  after(async () => {
    await assent?.stop();
    await db?.destroy();
    await database?.drop();
    await receiver?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('request, SQL and outbound spans continue the caller’s trace, carry the ids, and hold no secret', async () => {
    // The TPP publishes its keys at a jwks_uri, so that verifying its client assertion is an outbound fetch,
    // and takes event notifications at the same server, so that a push is one too.
    const tppPair = await issueCertificate(ca, { subject: 'CN=localhost', dnsNames: ['localhost'], usage: 'server' });
    let jwks: unknown;
    const traceparentsReceived: string[] = [];
    const pushTraceparents: string[] = [];
    const jwksServer = https.createServer({ cert: tppPair.certPem, key: tppPair.keyPem }, (req, res) => {
      const traceparent = typeof req.headers.traceparent === 'string' ? req.headers.traceparent : 'none';
      if (req.method === 'POST') {
        pushTraceparents.push(traceparent);
        req.resume().on('end', () => res.writeHead(202).end());
        return;
      }
      traceparentsReceived.push(traceparent);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, 'localhost', resolve));
    const jwksUri = `https://localhost:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
    const tpp = await createTestTpp({ issuer, ca, db });
    const { payload } = await db
      .selectFrom('oidc_model')
      .select('payload')
      .where('model', '=', 'Client')
      .where('id', '=', tpp.clientId)
      .executeTakeFirstOrThrow();
    const { jwks: published, ...metadata } = payload as Record<string, unknown>;
    jwks = published;
    await saveClient(db, { ...metadata, jwks_uri: jwksUri } as Parameters<typeof saveClient>[1]);

    // Every call the TPP makes continues one trace of its own, and carries an interaction id of its own;
    // every value it sends or receives is a secret the spans must not hold.
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const interactionId = randomUUID();
    const secrets = new Set<string>();
    const keep = (value: string | null | undefined) => {
      if (value && value.length >= 8) secrets.add(value);
    };
    const send = fetchVia(tpp.agent);
    tpp.config[oidc.customFetch] = async (url, options) => {
      const headers = new Headers(options.headers as ConstructorParameters<typeof Headers>[0]);
      headers.set('traceparent', `00-${traceId}-${callerSpanId}-01`);
      headers.set('x-fapi-interaction-id', interactionId);
      for (const name of ['authorization', 'dpop']) keep(headers.get(name)?.replace(/^\S+ /, ''));
      if (typeof options.body === 'string' || options.body instanceof URLSearchParams) {
        for (const [name, value] of new URLSearchParams(String(options.body))) if (!NOT_SECRET.has(name)) keep(value);
      }
      const response = await send(url, { ...options, headers: Object.fromEntries(headers) });
      const text = await response.clone().text();
      if (response.headers.get('content-type')?.includes('json') && text) {
        const body = JSON.parse(text) as Record<string, unknown>;
        for (const name of ['access_token', 'refresh_token', 'id_token', 'request_uri']) keep(body[name] as string | undefined);
      }
      return response;
    };

    // The customer's browser: its cookies and every form field it posts are secrets too.
    const recorded = tlsAgent(ca.certPem).compose((dispatch) => (options: Dispatcher.DispatchOptions, handler) => {
      const headers = options.headers as Record<string, string> | string[] | undefined;
      const cookie = Array.isArray(headers) ? headers[headers.indexOf('cookie') + 1] : headers?.cookie;
      for (const pair of (cookie ?? '').split(/;\s*/)) keep(pair.split('=')[1]);
      if (typeof options.body === 'string') for (const [, value] of new URLSearchParams(options.body)) keep(value);
      return dispatch(options, handler);
    });
    const browser = new CustomerAgent(recorded as never, issuer);
    const callbackUrl = `https://localhost:${(jwksServer.address() as AddressInfo).port}/event-notifications`;
    const api = await ConsentApiClient.create({ issuer, db }, tpp);
    keep(api.accessToken);
    const registered = await api.call('POST', `${OB_API_PREFIX}${EVENT_API_PATHS.callbackUrls}`, {
      body: { Data: { Url: callbackUrl, Version: '3.1' } },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const { customer, current } = await customerWithAccounts({ db });
    keep(customer.password);
    const nextCode = customer.nextCode;
    customer.nextCode = () => {
      const code = nextCode();
      secrets.add(code);
      return code;
    };

    const granted = await grantConsent({ issuer, ca, db }, tpp, customer, { type: 'account_access', accounts: [current], browser });
    for (const token of [granted.tokens.access_token, granted.tokens.refresh_token, granted.tokens.id_token]) keep(token);
    const read = await api.call('GET', `${ACCOUNT_ACCESS}/${granted.consentId}`);
    assert.equal(read.status, 200);
    assert.ok(traceparentsReceived.length > 0, 'Assent fetched the jwks_uri');
    for (let waited = 0; pushTraceparents.length === 0 && waited < 10_000; waited += 100) await sleep(100);
    jwksServer.close();

    // A probe is not traced, whatever it carries.
    const probeTrace = randomBytes(16).toString('hex');
    const probe = await fetch(`${issuer}/readyz`, {
      headers: { traceparent: `00-${probeTrace}-${callerSpanId}-01` },
      dispatcher: tlsAgent(ca.certPem),
    });
    assert.equal(probe.status, 200);

    await assent.stop(); // shutdown exports the spans still batched
    const spans = receiver.spans();
    const exported = receiver.bodies.join('\n');

    // A span per request: the TPP's continue its trace, under its span.
    const continued = spans.filter((span) => span.kind === SERVER && span.traceId === traceId);
    assert.ok(continued.length >= 5, `server spans in the caller's trace: ${continued.map((span) => span.name).join(', ')}`);
    for (const span of continued) assert.equal(span.parentSpanId, callerSpanId, span.name);
    assert.equal(spans.filter((span) => span.traceId === probeTrace).length, 0, 'no span for a probe');
    const routes = continued.map((span) => attribute(span, 'http.route') ?? span.name);
    for (const route of ['/request', '/token', ACCOUNT_ACCESS]) {
      assert.ok(
        routes.some((name) => name.includes(route)),
        `a span for ${route}: ${routes.join(', ')}`,
      );
    }
    assert.ok(
      continued.every((span) => attribute(span, SPAN_ATTRIBUTES.interactionId) === interactionId),
      'each carries the interaction id',
    );
    const consentRead = continued.find(
      (span) => attribute(span, 'http.route')?.startsWith(ACCOUNT_ACCESS) && attribute(span, 'http.request.method') === 'GET',
    );
    assert.equal(consentRead && attribute(consentRead, SPAN_ATTRIBUTES.consentId), granted.consentId);
    const pages = spans.filter((span) => span.kind === SERVER && attribute(span, 'http.route')?.startsWith('/interaction'));
    assert.ok(
      pages.length > 0 && pages.every((span) => attribute(span, SPAN_ATTRIBUTES.consentId) === granted.consentId),
      'the pages name the consent',
    );

    // Koa's router names its layer (the ESM hook was in place before Koa loaded).
    const routerSpans = spans.filter((span) => span.scope === '@opentelemetry/instrumentation-koa' && span.traceId === traceId);
    assert.ok(
      routerSpans.some((span) => attribute(span, 'http.route') === `${ACCOUNT_ACCESS}/:consentId`),
      `Koa router spans: ${routerSpans.map((span) => span.name).join(', ')}`,
    );

    // A span per SQL statement, inside the request that ran it.
    const statements = spans.filter((span) => span.scope === '@opentelemetry/instrumentation-pg' && span.traceId === traceId);
    assert.ok(
      statements.some((span) => /select|insert|update/i.test(attribute(span, 'db.query.text') ?? attribute(span, 'db.statement') ?? '')),
      `SQL spans in the caller's trace: ${statements.length}`,
    );

    // traceparent passed on: the JWKS fetch came as a child of an exported client span of the same trace.
    const outbound = traceparentsReceived.map((header) => header.split('-'));
    const passedOn = outbound.find(([, id]) => id === traceId);
    assert.ok(passedOn, `the outbound fetch continued the trace: ${traceparentsReceived.join(', ')}`);
    const clientSpan = spans.find((span) => span.kind === CLIENT && span.spanId === passedOn[2]);
    assert.ok(clientSpan, 'its parent is an exported client span');
    assert.equal(attribute(clientSpan, 'url.full'), jwksUri);
    // And the event push (the consent's authorisation), from the delivery loop: a trace of its own, passed on.
    assert.ok(pushTraceparents.length > 0, 'an event was pushed');
    const pushSpanIds = pushTraceparents.map((header) => header.split('-')[2]);
    const pushSpan = spans.find((span) => span.kind === CLIENT && pushSpanIds.includes(span.spanId));
    assert.ok(pushSpan, `the push carried traceparent of an exported span: ${pushTraceparents.join(', ')}`);
    assert.equal(attribute(pushSpan, 'url.full'), callbackUrl);
    assert.match(attribute(pushSpan, SPAN_ATTRIBUTES.interactionId) ?? '', /^[0-9a-f-]{36}$/);

    // Query strings keep their names only: the authorization request's request_uri and the callback's code.
    const queries = spans.map((span) => attribute(span, 'url.query')).filter((query) => query !== undefined);
    assert.ok(
      queries.some((query) => query.includes(`request_uri=${REDACTED}`)),
      queries.join(' | '),
    );

    // And no secret of the flow anywhere in what was exported.
    assert.ok(secrets.size >= 15, `secrets collected: ${secrets.size}`);
    const leaked = [...secrets].filter((secret) => exported.includes(secret));
    assert.deepEqual(
      leaked.map((secret) => exported.slice(Math.max(0, exported.indexOf(secret) - 200), exported.indexOf(secret) + 60)),
      [],
    );
    assert.doesNotMatch(exported, /"(http\.request\.header\.(cookie|authorization|dpop)|db\.query\.parameter\.\d+)"/i);
  });
});

describe('tracing off', () => {
  test('is off unless an exporter is asked for, and switched off by OTEL_SDK_DISABLED or none', () => {
    const base = { DEV_MODE: 'true' };
    assert.equal(loadConfig(base).tracing, undefined);
    assert.equal(loadConfig({ ...base, OTEL_SERVICE_NAME: 'x' }).tracing, undefined);
    assert.deepEqual(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing, { serviceName: 'assent' });
    assert.deepEqual(loadConfig({ ...base, OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'auth' }).tracing, { serviceName: 'auth' });
    assert.equal(
      loadConfig({ ...base, OTEL_TRACES_EXPORTER: 'otlp,none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).tracing,
      undefined,
    );
    assert.equal(loadConfig({ ...base, OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).tracing, undefined);
    assert.throws(
      () => loadConfig({ ...base, OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' }),
      /OTEL_EXPORTER_OTLP_PROTOCOL must be grpc, http\/protobuf or http\/json/,
    );
  });

  test('loads none of OpenTelemetry: only ops/tracing.ts imports it, and only main.ts imports that, dynamically', async () => {
    const files = (await readdir('src', { recursive: true })).filter((file) => file.endsWith('.ts'));
    const importing = [];
    for (const file of files) {
      const text = await readFile(path.join('src', file), 'utf8');
      if (/from '@opentelemetry\//.test(text)) importing.push(file);
      if (/import [^;]*from '[./]*ops\/tracing\.ts'/.test(text)) assert.fail(`${file} imports ops/tracing.ts statically`);
    }
    assert.deepEqual(importing, ['ops/tracing.ts']);
    assert.match(await readFile('src/main.ts', 'utf8'), /await import\('\.\/ops\/tracing\.ts'\)/);
  });
});

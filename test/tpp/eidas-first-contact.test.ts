import 'reflect-metadata';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Koa from 'koa';
import { Agent, fetch } from 'undici';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { connectDatabase, type Db } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { createClientCertificateReader } from '../../src/http/client-certificate.ts';
import { ensureDevPki, issueCertificate, type PemPair } from '../../src/http/dev-pki.ts';
import { AssentError } from '../../src/protocol/assent-error.ts';
import { identifyEidasCertificate } from '../../src/tpp/eidas-identity.ts';
import { type EidasState, eidasTppMiddleware, type SignedRequests } from '../../src/tpp/eidas-middleware.ts';
import { ensureEidasTpp } from '../../src/tpp/eidas-tpp.ts';
import { type EidasTrust, loadEidasTrust } from '../../src/tpp/eidas-trust.ts';
import { getTppProfile, reinstateTpp, suspendTpp } from '../../src/tpp/tpp-service.ts';
import { createTestDatabase } from '../support/database.ts';
import { signRequest } from '../support/berlin-group-signing.ts';
import { statementsDuring } from '../support/statements.ts';

const PSD2 = { roles: ['PSP_AI', 'PSP_IC'] as ('PSP_AI' | 'PSP_IC')[], ncaName: 'BaFin', ncaId: 'DE-BAFIN' };
const subjectOf = (organizationId: string) => `CN=${organizationId},organizationIdentifier=${organizationId},O=Kontoblick GmbH,C=DE`;
const OPERATOR = { kind: 'operator' as const, id: 'ops@bank' };

/** A throwaway Koa app: the middleware, then an answer naming the TPP; AssentErrors as { code, message }. */
function eidasApp(db: Db, trust: EidasTrust, signedRequests: SignedRequests, overProxy: boolean) {
  const app = new Koa<EidasState>();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof AssentError)) throw error;
      ctx.status = error.status;
      ctx.body = { code: error.code, message: error.message };
    }
  });
  const presentedCertificate = createClientCertificateReader({
    terminatedByProxy: overProxy,
    header: 'x-client-cert',
    trustedProxies: overProxy ? ['127.0.0.1'] : [],
    trustedCas: [],
  });
  app.use(eidasTppMiddleware({ db, trust, presentedCertificate, signedRequests })());
  app.use((ctx) => {
    ctx.body = { organizationId: ctx.state.eidasTpp.organizationId, roles: ctx.state.eidasTpp.roles, clientId: ctx.state.eidasClientId };
  });
  return app;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('eIDAS TPPs on first contact: one row, one audit event, over real TLS and Postgres', () => {
  let directory: string;
  let database: { url: string; drop(): Promise<void> };
  let db: Db;
  let ca: PemPair;
  let trust: EidasTrust;
  const servers: Server[] = [];
  let mtlsPort: number;
  let signedPort: number;
  let proxyPort: number;

  const qwacOf = (organizationId: string, extra: Partial<Parameters<typeof issueCertificate>[1]> = {}) =>
    issueCertificate(ca, { subject: subjectOf(organizationId), usage: 'client', psd2: PSD2, ...extra });
  const agentFor = (qwac?: PemPair) =>
    new Agent({ connect: { ca: ca.certPem, ...(qwac && { cert: qwac.certPem, key: qwac.keyPem }) }, connections: 64 });
  const tppRows = (organizationId: string) =>
    db.selectFrom('tpp').select(['client_id', 'identified_by', 'roles', 'status']).where('org_id', '=', organizationId).execute();

  async function call(
    port: number,
    qwac: PemPair | undefined,
    init: { method?: string; headers?: Record<string, string>; body?: Uint8Array } = {},
  ) {
    // POST by default: a first contact that only reads makes no row (GETs never write).
    const response = await fetch(`https://localhost:${port}/v1/consents`, { method: 'POST', ...init, dispatcher: agentFor(qwac) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  before(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'assent-eidas-tls-'));
    database = await createTestDatabase();
    db = await connectDatabase({ databaseUrl: database.url, dataDir: directory, poolSize: 40 });
    await migrateToLatest(db);
    const pki = await ensureDevPki(directory);
    ca = pki.ca;
    await writeFile(path.join(directory, 'cas.pem'), ca.certPem);
    trust = await loadEidasTrust({ caFile: path.join(directory, 'cas.pem'), crlFile: undefined });
    const tls = { key: pki.server.keyPem, cert: pki.server.certPem, requestCert: true, rejectUnauthorized: false };
    const mtls = createHttpsServer(tls, eidasApp(db, trust, 'off', false).callback());
    const signed = createHttpsServer(tls, eidasApp(db, trust, 'required', false).callback());
    const proxied = createHttpServer(eidasApp(db, trust, 'off', true).callback());
    servers.push(mtls, signed, proxied);
    [mtlsPort, signedPort, proxyPort] = await Promise.all([listen(mtls), listen(signed), listen(proxied)]);
  });
  after(async () => {
    for (const server of servers) server.closeAllConnections();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await db?.destroy();
    await database?.drop();
    await rm(directory, { recursive: true, force: true });
  });

  test('a QWAC over mTLS: known on first contact by its organizationIdentifier, with its roles', async () => {
    const qwac = await qwacOf('PSDDE-BAFIN-100001');
    const answer = await call(mtlsPort, qwac);
    assert.deepEqual(answer, {
      status: 200,
      body: { organizationId: 'PSDDE-BAFIN-100001', roles: ['PSP_AI', 'PSP_IC'], clientId: 'PSDDE-BAFIN-100001' },
    });
    assert.deepEqual(await tppRows('PSDDE-BAFIN-100001'), [
      { client_id: 'PSDDE-BAFIN-100001', identified_by: 'eidas', roles: ['AISP', 'CBPII'], status: 'active' },
    ]);
    const profile = await getTppProfile(db, 'PSDDE-BAFIN-100001');
    assert.equal(profile?.name, 'Kontoblick GmbH');
    assert.equal(profile?.directory, 'eidas');
    assert.equal((await call(mtlsPort, qwac)).status, 200, 'the second call finds the row');
    assert.deepEqual(
      (await auditHistory(db, 'tpp', 'PSDDE-BAFIN-100001')).map((event) => event.event),
      ['tpp.first_contact'],
    );
  });

  test('a first contact that only reads (GET) is answered and writes nothing; after the TPP is known, a suspended one is refused on GETs too', async () => {
    const qwac = await qwacOf('PSDDE-BAFIN-100099');
    const read = await call(mtlsPort, qwac, { method: 'GET' });
    assert.deepEqual(read, {
      status: 200,
      body: { organizationId: 'PSDDE-BAFIN-100099', roles: ['PSP_AI', 'PSP_IC'], clientId: 'PSDDE-BAFIN-100099' },
    });
    assert.deepEqual(await tppRows('PSDDE-BAFIN-100099'), [], 'no row');
    assert.deepEqual(await auditHistory(db, 'tpp', 'PSDDE-BAFIN-100099'), [], 'no audit event');
    assert.equal((await call(mtlsPort, qwac)).status, 200, 'a POST makes it known');
    await suspendTpp(db, 'PSDDE-BAFIN-100099', { reason: 'fraud', actor: OPERATOR });
    assert.equal((await call(mtlsPort, qwac, { method: 'GET' })).body.code, 'certificate_blocked');
  });

  test('a known TPP costs one statement a request, GET or writing: its row and whether its client exists, read together', async () => {
    const organizationId = 'PSDDE-BAFIN-100077';
    const qwac = await qwacOf(organizationId);
    const clientOf = () =>
      db.selectFrom('oidc_model').select('id').where('model', '=', 'Client').where('id', '=', organizationId).executeTakeFirst();

    // A first writing request makes the row and the client.
    const first = await statementsDuring(async () => assert.equal((await call(mtlsPort, qwac)).status, 200));
    assert.ok(first.some((text) => /insert into "tpp"/.test(text)));
    assert.ok(await clientOf(), 'the client made with the row');

    for (const method of ['POST', 'DELETE', 'GET']) {
      const sent = await statementsDuring(async () => assert.equal((await call(mtlsPort, qwac, { method })).status, 200));
      assert.equal(sent.length, 1, `${method}: ${sent.join(' | ')}`);
      assert.match(sent[0]!, /^select .* from "tpp"/);
      assert.doesNotMatch(sent[0]!, /insert|update|delete/i, `${method} writes nothing for a known TPP`);
    }

    // A TPP known before eIDAS clients existed (its row, no client) gets one at its next writing request, not on a GET.
    await db.deleteFrom('oidc_model').where('model', '=', 'Client').where('id', '=', organizationId).execute();
    assert.equal((await call(mtlsPort, qwac, { method: 'GET' })).status, 200);
    assert.equal(await clientOf(), undefined, 'GETs never write');
    const restoring = await statementsDuring(async () => assert.equal((await call(mtlsPort, qwac)).status, 200));
    assert.ok(await clientOf(), 'the client is back');
    assert.equal(restoring.filter((text) => /from "tpp"/.test(text)).length, 1, 'still one read of the row');

    // Suspended: refused on the one read, nothing written.
    await suspendTpp(db, organizationId, { reason: 'fraud', actor: OPERATOR });
    for (const method of ['POST', 'GET']) {
      let answer: Awaited<ReturnType<typeof call>> | undefined;
      const sent = await statementsDuring(async () => {
        answer = await call(mtlsPort, qwac, { method });
      });
      assert.deepEqual([answer!.status, answer!.body.code], [401, 'certificate_blocked']);
      assert.equal(sent.length, 1, `${method}: ${sent.join(' | ')}`);
    }
  });

  test('32 concurrent first contacts of one TPP: all answered, exactly one row and one audit event', async () => {
    const qwac = await qwacOf('PSDDE-BAFIN-100032');
    const agent = agentFor(qwac);
    const answers = await Promise.all(
      Array.from(
        { length: 32 },
        async () => (await fetch(`https://localhost:${mtlsPort}/v1/consents`, { method: 'POST', dispatcher: agent })).status,
      ),
    );
    assert.deepEqual(answers, Array(32).fill(200));
    assert.equal((await tppRows('PSDDE-BAFIN-100032')).length, 1);
    assert.equal((await auditHistory(db, 'tpp', 'PSDDE-BAFIN-100032')).length, 1);

    // The service on its own, racing on one connection each: one `created`.
    const tpp = identifyEidasCertificate(new X509Certificate((await qwacOf('PSDDE-BAFIN-200032')).certPem), await trust.current());
    const records = await Promise.all(Array.from({ length: 32 }, () => ensureEidasTpp(db, tpp)));
    assert.equal(records.filter((record) => record.created).length, 1);
    assert.equal((await auditHistory(db, 'tpp', 'PSDDE-BAFIN-200032')).length, 1);
  });

  test('a suspended TPP stays refused (certificate_blocked) until reinstated', async () => {
    const qwac = await qwacOf('PSDDE-BAFIN-100002');
    assert.equal((await call(mtlsPort, qwac)).status, 200);
    await suspendTpp(db, 'PSDDE-BAFIN-100002', { reason: 'NCA withdrew the licence', actor: OPERATOR });
    const refused = await call(mtlsPort, qwac);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.code, 'certificate_blocked');
    assert.match(String(refused.body.message), /suspended: NCA withdrew the licence/);
    await reinstateTpp(db, 'PSDDE-BAFIN-100002', { actor: OPERATOR });
    assert.equal((await call(mtlsPort, qwac)).status, 200);
  });

  test('no certificate, an untrusted CA, an expired QWAC: refused, and nothing written', async () => {
    assert.deepEqual((await call(mtlsPort, undefined)).body.code, 'certificate_invalid');
    const { ca: foreignCa } = await ensureDevPki(path.join(directory, 'foreign'));
    const foreign = await issueCertificate(foreignCa, { subject: subjectOf('PSDDE-BAFIN-100003'), usage: 'client', psd2: PSD2 });
    assert.deepEqual((await call(mtlsPort, foreign)).body.code, 'certificate_invalid');
    const day = 86_400_000;
    const expired = await qwacOf('PSDDE-BAFIN-100004', {
      validity: { notBefore: new Date(Date.now() - 9 * day), notAfter: new Date(Date.now() - day) },
    });
    const answer = await call(mtlsPort, expired);
    assert.equal(answer.status, 401);
    assert.equal(answer.body.code, 'certificate_expired');
    assert.deepEqual([...(await tppRows('PSDDE-BAFIN-100003')), ...(await tppRows('PSDDE-BAFIN-100004'))], []);
  });

  test('behind a trusted proxy: the forwarded QWAC identifies the TPP', async () => {
    const qwac = await qwacOf('PSDDE-BAFIN-100005');
    const response = await fetch(`http://127.0.0.1:${proxyPort}/v1/consents`, {
      method: 'POST',
      headers: { 'x-client-cert': encodeURIComponent(qwac.certPem) },
    });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { organizationId: string }).organizationId, 'PSDDE-BAFIN-100005');
  });

  test('with signed requests required: a signed request passes; a tampered body or the seal of another TPP is refused and writes nothing', async () => {
    const qwac = await qwacOf('PSDDE-BAFIN-100006');
    const qseal = await qwacOf('PSDDE-BAFIN-100006', { rsa: true });
    const send = (request: ReturnType<typeof signRequest>, body = request.body) =>
      call(signedPort, qwac, { method: 'POST', headers: request.headers as Record<string, string>, body });

    const tampered = await send(signRequest(qseal), Buffer.from('{"access":{"allPsd2":"allAccountsWithOwnerName"}}'));
    assert.equal(tampered.status, 401);
    assert.equal(tampered.body.code, 'signature_invalid');
    assert.match(String(tampered.body.message), /Digest/);
    const otherSeal = await qwacOf('PSDDE-BAFIN-999999', { rsa: true });
    assert.equal((await send(signRequest(otherSeal))).body.code, 'certificate_invalid');
    assert.equal((await call(signedPort, qwac)).body.code, 'signature_invalid', 'unsigned');
    assert.deepEqual(await tppRows('PSDDE-BAFIN-100006'), [], 'a refused request makes no row');

    const accepted = await send(signRequest(qseal));
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.equal((await tppRows('PSDDE-BAFIN-100006')).length, 1);
  });
});

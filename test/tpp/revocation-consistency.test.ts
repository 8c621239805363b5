import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { type Agent, fetch } from 'undici';
import { createResourceServer } from '../../src/tpp/resource-servers.ts';
import { connectDatabase, type Db } from '../../src/db/connect.ts';
import { issueCertificate } from '../../src/http/dev-pki.ts';
import { suspendTpp } from '../../src/tpp/tpp-service.ts';
import { type AssentProcess, routeTo, spawnAssent } from '../support/assent-process.ts';
import { freePort } from '../support/free-port.ts';
import { tlsAgent } from '../support/assent.ts';
import { ACCOUNT_ACCESS, ConsentApiClient } from '../support/consent-api.ts';
import { createTestDatabase } from '../support/database.ts';
import { customerWithAccounts, grantConsent } from '../support/granted-consents.ts';
import { createTestTpp, type TestTpp, insertTestTppRecord } from '../support/tpp.ts';

/**
 * The revocation rule across instances: a token revoked on one process reads inactive on the other for
 * every introspection sent after the revocation's answer came back (its commit lies before that
 * answer). The introspecting process is hammered all along, so it has its clients cached and its
 * connections busy when the revocation lands.
 */

interface Outcome {
  sentAt: number;
  answeredAt: number;
  active: boolean;
}

const HAMMERS = 6;

async function clientCredentialsToken(tpp: TestTpp) {
  return (await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' })).access_token;
}

describe('revocation is seen at once by every instance', () => {
  let database: { url: string; drop(): Promise<void> };
  let dataDir: string;
  let db: Db;
  let introspecting: AssentProcess;
  let revoking: AssentProcess;
  let issuer: string;
  let revokingUrl: string;
  let ca: { certPem: string; keyPem: string };
  let resourceServer: { clientId: string; agent: Agent };

  before(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'assent-revocation-'));
    const issuerPort = await freePort();
    issuer = `https://localhost:${issuerPort}`;
    const env = { DATABASE_URL: database.url, DATA_DIR: dataDir, DEV_MODE: 'true', SEED_DEMO: 'false', ISSUER: issuer };
    // One after the other: the first start writes the dev CA both use.
    introspecting = await spawnAssent({ ...env, PORT: String(issuerPort) });
    revoking = await spawnAssent({ ...env, RATE_LIMIT_TOKEN: 'off' });
    revokingUrl = `https://localhost:${revoking.port}`;
    db = await connectDatabase({ databaseUrl: database.url, dataDir });
    ca = {
      certPem: await readFile(path.join(dataDir, 'tls', 'ca.pem'), 'utf8'),
      keyPem: await readFile(path.join(dataDir, 'tls', 'ca-key.pem'), 'utf8'),
    };
    const subjectDn = 'CN=Accounts API,O=Bank,C=GB';
    const { clientId } = await createResourceServer(db, {
      name: 'Accounts API',
      auth: { method: 'tls_client_auth', subjectDn },
      operator: 'test',
    });
    resourceServer = { clientId, agent: tlsAgent(ca.certPem, await issueCertificate(ca, { subject: subjectDn, usage: 'client' })) };
  });
  after(async () => {
    await Promise.all([introspecting?.stop(), revoking?.stop()]);
    await db?.destroy();
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function introspect(token: string): Promise<boolean> {
    const response = await fetch(`${issuer}/token/introspection`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: resourceServer.clientId }).toString(),
      dispatcher: resourceServer.agent,
    });
    assert.equal(response.status, 200, await response.clone().text());
    return ((await response.json()) as { active: boolean }).active;
  }

  /** Introspects the token on the first process from several loops while `revoke` runs against the second (or the database). */
  async function hammerWhile(token: string, revoke: () => Promise<void>) {
    const outcomes: Outcome[] = [];
    const hammering = { stop: false };
    const hammers = Array.from({ length: HAMMERS }, async () => {
      while (!hammering.stop) {
        const sentAt = performance.now();
        const active = await introspect(token);
        outcomes.push({ sentAt, answeredAt: performance.now(), active });
      }
    });
    let revokeSent: number;
    let committed: number;
    try {
      // Several answers in first (a loaded machine may take a while), so the token is shown to be active.
      for (let waited = 0; outcomes.length < HAMMERS * 2 && waited < 20_000; waited += 50) await sleep(50);
      revokeSent = performance.now();
      await revoke();
      committed = performance.now();
      await sleep(700);
    } finally {
      hammering.stop = true;
      await Promise.all(hammers);
    }

    // One sent before the revocation but answered after it may go either way; one answered before it was sent may not.
    const earlier = outcomes.filter((outcome) => outcome.answeredAt < revokeSent);
    const afterwards = outcomes.filter((outcome) => outcome.sentAt > committed);
    assert.ok(
      earlier.length > 0 && earlier.every((outcome) => outcome.active),
      'active in every answer that came before the revocation was sent',
    );
    assert.ok(afterwards.length >= HAMMERS, `introspections kept coming after the commit (${afterwards.length})`);
    assert.deepEqual(
      afterwards.filter((outcome) => outcome.active),
      [],
      'no introspection sent after the commit says active',
    );
  }

  test('RFC 7009 revocation on the other process', async () => {
    const tpp = await createTestTpp({ issuer, ca, db }, { auth: 'tls_client_auth' });
    const token = await clientCredentialsToken(tpp);
    await hammerWhile(token, async () => {
      const response = await fetch(`${revokingUrl}/token/revocation`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, client_id: tpp.clientId }).toString(),
        dispatcher: tpp.agent,
      });
      assert.equal(response.status, 200);
    });
  });

  test('the TPP deletes the consent on the other process', async () => {
    const tpp = await createTestTpp({ issuer, ca, db });
    const { customer, current } = await customerWithAccounts({ db });
    const { consentId, tokens } = await grantConsent({ issuer, ca, db }, tpp, customer, { type: 'account_access', accounts: [current] });
    const api = await ConsentApiClient.create({ issuer, db }, tpp);
    routeTo(tpp, `${ACCOUNT_ACCESS}/${consentId}`, revoking.port);
    await hammerWhile(tokens.access_token, async () => {
      const deleted = await api.call('DELETE', `${ACCOUNT_ACCESS}/${consentId}`);
      assert.equal(deleted.status, 204);
    });
  });

  test('the operator suspends the TPP', async () => {
    const tpp = await createTestTpp({ issuer, ca, db }, { auth: 'tls_client_auth' });
    await insertTestTppRecord(db, tpp.clientId, 'Suspended Soon');
    const token = await clientCredentialsToken(tpp);
    await hammerWhile(token, async () => {
      await suspendTpp(db, tpp.clientId, { reason: 'test', actor: { kind: 'operator', id: 'test' } });
    });
  });
});

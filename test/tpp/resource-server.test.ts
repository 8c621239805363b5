import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID, type webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createLocalJWKSet, importJWK, type JWK, jwtVerify, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { tlsAgent } from '../support/assent.ts';
import { createTestTpp, fetchVia, type TestTpp } from '../support/tpp.ts';
import { useAssent, useTpp } from '../support/fixture.ts';

const run = promisify(execFile);

describe('resource servers introspect; TPPs only see their own tokens', () => {
  let rs: oidc.Configuration;
  let rsId: string;
  let dpop: oidc.DPoPHandle;

  const assent = useAssent();
  const tpp = useTpp(assent);
  before(async () => {
    const { stdout } = await run(process.execPath, ['src/cli/admin.ts', 'rs:create', '--name', 'Accounts API', '--json'], {
      env: { ...process.env, DATABASE_URL: assent.databaseUrl, DATA_DIR: assent.dataDir, DEV_MODE: 'true' },
    });
    const created = JSON.parse(stdout) as { client_id: string; private_key_file: string };
    rsId = created.client_id;
    const jwk = JSON.parse(await readFile(created.private_key_file, 'utf8')) as JWK;
    const key = { key: (await importJWK(jwk, 'PS256')) as webcrypto.CryptoKey, kid: jwk.kid };
    rs = await oidc.discovery(new URL(assent.issuer), rsId, undefined, oidc.PrivateKeyJwt(key), {
      [oidc.customFetch]: fetchVia(tlsAgent(assent.ca.certPem)),
    });
    rs[oidc.customFetch] = fetchVia(tlsAgent(assent.ca.certPem));
    dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
  });

  test("a resource server introspects a TPP's token", async () => {
    const { access_token } = await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: dpop });
    const introspected = await oidc.tokenIntrospection(rs, access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.client_id, tpp.clientId);
    assert.equal(introspected.scope, 'accounts');
    assert.ok((introspected.cnf as { jkt?: string }).jkt);
  });

  test('another TPP learns nothing about the token', async () => {
    const { access_token } = await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: dpop });
    const other = await createTestTpp(assent);
    const introspected = await oidc.tokenIntrospection(other.config, access_token);
    assert.deepEqual(introspected, { active: false });
  });

  test('a resource server obtains only DPoP-bound bank tokens, never a TPP scope', async () => {
    await assert.rejects(
      oidc.clientCredentialsGrant(rs, { scope: 'accounts' }, { DPoP: oidc.getDPoPHandle(rs, await oidc.randomDPoPKeyPair('ES256')) }),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_scope',
    );
    await assert.rejects(
      oidc.clientCredentialsGrant(rs, { scope: 'bank' }),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_grant',
      'no bearer tokens',
    );
    const bank = await oidc.clientCredentialsGrant(
      rs,
      { scope: 'bank' },
      { DPoP: oidc.getDPoPHandle(rs, await oidc.randomDPoPKeyPair('ES256')) },
    );
    assert.equal(bank.scope, 'bank');
    assert.equal(bank.token_type.toLowerCase(), 'dpop');
  });

  test('introspection answers as a signed JWT when asked (application/token-introspection+jwt)', async () => {
    const { access_token } = await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: dpop });
    const response = await fetch(`${assent.issuer}/token/introspection`, {
      method: 'POST',
      dispatcher: tpp.agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/token-introspection+jwt' },
      body: new URLSearchParams({ token: access_token, client_id: tpp.clientId, ...(await assertionFor(tpp, assent.issuer)) }).toString(),
    });
    assert.match(response.headers.get('content-type') ?? '', /application\/token-introspection\+jwt/);
    const jwks = (await (await fetch(`${assent.issuer}/jwks`, { dispatcher: tpp.agent })).json()) as { keys: JWK[] };
    const { payload } = await jwtVerify(await response.text(), createLocalJWKSet(jwks), { issuer: assent.issuer, audience: tpp.clientId });
    assert.equal((payload.token_introspection as { active: boolean; client_id: string }).active, true);
    assert.equal((payload.token_introspection as { client_id: string }).client_id, tpp.clientId);
  });
});

async function assertionFor(tpp: TestTpp, issuer: string) {
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'PS256', kid: tpp.kid })
    .setIssuer(tpp.clientId)
    .setSubject(tpp.clientId)
    .setAudience(issuer)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(tpp.privateKey);
  return { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
}

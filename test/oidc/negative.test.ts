import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { saveClient } from '../../src/store/clients.ts';
import { tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer } from '../support/customers.ts';
import { createTestTpp, pushAuthorizationRequest, type TestTpp } from '../support/tpp.ts';
import { useAssent, useTpp } from '../support/fixture.ts';

const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSKeitSg';

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function unsignedJwt(payload: Record<string, unknown>) {
  return `${part({ alg: 'none', typ: 'oauth-authz-req+jwt' })}.${part(payload)}.`;
}

async function post(tpp: TestTpp, url: string, form: Record<string, string>) {
  const response = await fetch(url, {
    method: 'POST',
    dispatcher: tpp.agent,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: (await response.json()) as { error?: string; error_description?: string } };
}

describe('FAPI 2.0 refusals', () => {
  let par: string;
  const baseRequest = () => ({
    client_id: tpp.clientId,
    response_type: 'code',
    redirect_uri: tpp.redirectUri,
    scope: 'openid accounts',
    state: randomUUID(),
  });

  const assent = useAssent();
  const tpp = useTpp(assent, { auth: 'tls_client_auth' });
  before(async () => {
    par = `${assent.issuer}/request`;
  });

  test('an authorization request that did not go through PAR is refused with invalid_request', async () => {
    const url = new URL(`${assent.issuer}/auth`);
    for (const [key, value] of Object.entries({ ...baseRequest(), code_challenge: CHALLENGE, code_challenge_method: 'S256' }))
      url.searchParams.set(key, value);
    const response = await fetch(url, { dispatcher: tlsAgent(assent.ca.certPem), redirect: 'manual' });
    const location = response.headers.get('location');
    const error = location ? new URL(location).searchParams.get('error') : /invalid_request/.exec(await response.text())?.[0];
    assert.equal(error, 'invalid_request');
    assert.equal(location ? new URL(location).searchParams.get('code') : null, null);
  });

  test('PAR without code_challenge is refused with invalid_request', async () => {
    const { status, body } = await post(tpp, par, baseRequest());
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_request');
    assert.match(body.error_description ?? '', /PKCE/);
  });

  test('PAR with the plain PKCE method is refused with invalid_request', async () => {
    const { status, body } = await post(tpp, par, { ...baseRequest(), code_challenge: CHALLENGE, code_challenge_method: 'plain' });
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_request');
  });

  test('an unsigned (alg none) request object is refused with invalid_request_object', async () => {
    const now = Math.floor(Date.now() / 1000);
    const request = unsignedJwt({
      ...baseRequest(),
      iss: tpp.clientId,
      aud: assent.issuer,
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
      iat: now,
      nbf: now,
      exp: now + 300,
      jti: randomUUID(),
    });
    const { status, body } = await post(tpp, par, { client_id: tpp.clientId, request });
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_request_object');
  });

  test('a client that must sign its requests cannot push plain parameters', async () => {
    const strict = await createTestTpp(assent, { auth: 'tls_client_auth', metadata: { require_signed_request_object: true } });
    const { status, body } = await post(strict, par, {
      ...baseRequest(),
      client_id: strict.clientId,
      redirect_uri: strict.redirectUri,
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
    });
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_request');
    assert.ok((await pushAuthorizationRequest(strict)).url, 'a signed request object is accepted');
  });

  test('a client assertion with the wrong audience is refused with invalid_client', async () => {
    const signer = await createTestTpp(assent);
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'PS256', kid: signer.kid })
      .setIssuer(signer.clientId)
      .setSubject(signer.clientId)
      .setAudience(`${assent.issuer}/token`)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(signer.privateKey);
    const { status, body } = await post(signer, par, {
      ...baseRequest(),
      client_id: signer.clientId,
      redirect_uri: signer.redirectUri,
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    assert.equal(status, 401);
    assert.equal(body.error, 'invalid_client');
  });

  test('a client without sender-constrained tokens cannot be used at all', async () => {
    const clientId = `bearer-${randomUUID()}`;
    await saveClient(assent.db, {
      client_id: clientId,
      redirect_uris: ['https://tpp.example/cb'],
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: 'CN=bearer',
      grant_types: ['authorization_code'],
      response_types: ['code'],
    });
    const { status, body } = await post(tpp, par, {
      ...baseRequest(),
      client_id: clientId,
      redirect_uri: 'https://tpp.example/cb',
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
    });
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_client_metadata');
    assert.match(body.error_description ?? '', /sender-constrained/);
  });

  async function authorizationCode() {
    const customer = await createTestCustomer(assent.db);
    const request = await pushAuthorizationRequest(tpp);
    const callback = await new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer).authorize(request.url, customer);
    return { callback, checks: { pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce } };
  }

  test('replaying an authorization code fails and revokes the tokens it produced (RFC 9700)', async () => {
    const { callback, checks } = await authorizationCode();
    const tokens = await oidc.authorizationCodeGrant(tpp.config, callback, checks);
    assert.equal((await oidc.tokenIntrospection(tpp.config, tokens.access_token)).active, true);

    await assert.rejects(
      oidc.authorizationCodeGrant(tpp.config, callback, checks),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_grant',
    );
    assert.equal((await oidc.tokenIntrospection(tpp.config, tokens.access_token)).active, false);
    assert.equal((await oidc.tokenIntrospection(tpp.config, tokens.refresh_token!)).active, false);
  });

  test('32 parallel redemptions of one code: exactly one wins, and its token dies with the reuse', async () => {
    const { callback, checks } = await authorizationCode();
    const results = await Promise.allSettled(Array.from({ length: 32 }, () => oidc.authorizationCodeGrant(tpp.config, callback, checks)));
    const winners = results.filter((result) => result.status === 'fulfilled');
    const losers = results.filter((result) => result.status === 'rejected');
    assert.equal(winners.length, 1);
    assert.equal(losers.length, 31);
    for (const loser of losers) assert.equal((loser.reason as oidc.ResponseBodyError).error, 'invalid_grant');
    const [winner] = winners;
    assert.equal((await oidc.tokenIntrospection(tpp.config, winner!.value.access_token)).active, false);
  });
});

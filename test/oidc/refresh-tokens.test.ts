import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { type TestAssent, tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer } from '../support/customers.ts';
import { createTestTpp, pushAuthorizationRequest, type TestTpp } from '../support/tpp.ts';
import { useAssent } from '../support/fixture.ts';

async function tokensFor(assent: TestAssent, tpp: TestTpp) {
  const customer = await createTestCustomer(assent.db);
  const request = await pushAuthorizationRequest(tpp);
  const callback = await new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer).authorize(request.url, customer);
  return oidc.authorizationCodeGrant(tpp.config, callback, {
    pkceCodeVerifier: request.codeVerifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
}

const isInvalidGrant = (error: oidc.ResponseBodyError) => error.error === 'invalid_grant';

describe('refresh tokens without rotation (default)', () => {
  const assent = useAssent();

  test('the same refresh token serves repeatedly and stays active', async () => {
    const tpp = await createTestTpp(assent, { auth: 'tls_client_auth' });
    const tokens = await tokensFor(assent, tpp);
    const first = await oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!);
    const second = await oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!);
    assert.equal(first.refresh_token ?? tokens.refresh_token, tokens.refresh_token);
    assert.notEqual(first.access_token, second.access_token);
    assert.equal((await oidc.tokenIntrospection(tpp.config, tokens.refresh_token!)).active, true);
  });
});

describe('refresh tokens with rotation', () => {
  const assent = useAssent({ REFRESH_TOKEN_ROTATION: 'true' });

  test('each refresh rotates; reusing the spent token revokes the whole grant', async () => {
    const tpp = await createTestTpp(assent, { auth: 'tls_client_auth' });
    const tokens = await tokensFor(assent, tpp);
    const rotated = await oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!);
    assert.ok(rotated.refresh_token);
    assert.notEqual(rotated.refresh_token, tokens.refresh_token);

    await assert.rejects(oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!), isInvalidGrant);
    assert.equal((await oidc.tokenIntrospection(tpp.config, rotated.access_token)).active, false);
    await assert.rejects(oidc.refreshTokenGrant(tpp.config, rotated.refresh_token!), isInvalidGrant);
  });

  test('32 racers on one refresh token: one winner, and the race revokes the grant', async () => {
    const tpp = await createTestTpp(assent, { auth: 'tls_client_auth' });
    const tokens = await tokensFor(assent, tpp);
    const results = await Promise.allSettled(Array.from({ length: 32 }, () => oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!)));
    const winners = results.filter((result) => result.status === 'fulfilled');
    assert.equal(winners.length, 1);
    for (const result of results)
      if (result.status === 'rejected') assert.equal((result.reason as oidc.ResponseBodyError).error, 'invalid_grant');
    const [winner] = winners;
    assert.equal((await oidc.tokenIntrospection(tpp.config, winner!.value.access_token)).active, false);
    await assert.rejects(oidc.refreshTokenGrant(tpp.config, winner!.value.refresh_token!), isInvalidGrant);
  });
});

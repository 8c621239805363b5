import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import * as oidc from 'openid-client';
import { tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer } from '../support/customers.ts';
import { createTestTpp, pushAuthorizationRequest, redeemCode } from '../support/tpp.ts';
import { useAssent } from '../support/fixture.ts';

describe('FAPI 2.0 flow with private_key_jwt and DPoP, driven by openid-client', () => {
  const assent = useAssent();

  test('discovery advertises the FAPI 2.0 surface', async () => {
    const tpp = await createTestTpp(assent);
    const server = tpp.config.serverMetadata();
    assert.equal(server.issuer, assent.issuer);
    assert.equal(server.require_pushed_authorization_requests, true);
    assert.deepEqual(server.response_types_supported, ['code']);
    assert.deepEqual([...(server.token_endpoint_auth_methods_supported ?? [])].toSorted(), [
      'private_key_jwt',
      'self_signed_tls_client_auth',
      'tls_client_auth',
    ]);
    assert.equal(server.tls_client_certificate_bound_access_tokens, true);
    assert.deepEqual(server.dpop_signing_alg_values_supported, ['PS256', 'ES256']);
    assert.equal(server.authorization_response_iss_parameter_supported, true);
    assert.equal(server.introspection_endpoint, `${assent.issuer}/token/introspection`);
    assert.equal(server.revocation_endpoint, `${assent.issuer}/token/revocation`);
    assert.deepEqual(server.code_challenge_methods_supported, ['S256']);
  });

  test('PAR + JAR + PKCE -> login -> consent -> DPoP-bound tokens -> userinfo -> refresh -> revocation', async () => {
    const tpp = await createTestTpp(assent);
    const customer = await createTestCustomer(assent.db);
    const dpopKeys = await oidc.randomDPoPKeyPair('ES256');
    const dpop = oidc.getDPoPHandle(tpp.config, dpopKeys);

    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts' }, { DPoP: dpop });
    assert.match(request.url.searchParams.get('request_uri') ?? '', /^urn:ietf:params:oauth:request_uri:/);

    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const callback = await browser.authorize(request.url, customer);
    assert.equal(callback.origin + callback.pathname, tpp.redirectUri);
    assert.equal(callback.searchParams.get('iss'), assent.issuer);

    const tokens = await redeemCode(tpp, callback, request, { dpop, idTokenExpected: true });
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
    assert.equal(tokens.claims()?.sub, customer.id);
    assert.equal(tokens.claims()?.acr, 'urn:openbanking:psd2:sca', 'both factors were used');
    assert.ok(tokens.refresh_token, 'a refresh token is issued');

    const introspected = await oidc.tokenIntrospection(tpp.config, tokens.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.client_id, tpp.clientId);
    assert.equal(introspected.sub, customer.id);
    assert.equal((introspected.cnf as { jkt?: string }).jkt, await calculateJwkThumbprint(await exportJWK(dpopKeys.publicKey)));

    const userinfo = await oidc.fetchUserInfo(tpp.config, tokens.access_token, customer.id, { DPoP: dpop });
    assert.equal(userinfo.sub, customer.id);

    const refreshed = await oidc.refreshTokenGrant(tpp.config, tokens.refresh_token, undefined, { DPoP: dpop });
    assert.notEqual(refreshed.access_token, tokens.access_token);
    assert.equal((await oidc.tokenIntrospection(tpp.config, refreshed.access_token)).active, true);

    await oidc.tokenRevocation(tpp.config, refreshed.access_token);
    assert.equal((await oidc.tokenIntrospection(tpp.config, refreshed.access_token)).active, false);

    await oidc.tokenRevocation(tpp.config, tokens.refresh_token);
    assert.equal((await oidc.tokenIntrospection(tpp.config, tokens.refresh_token)).active, false);
    await assert.rejects(
      oidc.refreshTokenGrant(tpp.config, tokens.refresh_token, undefined, { DPoP: dpop }),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_grant',
    );
  });

  test('a DPoP-bound access token is useless without its key', async () => {
    const tpp = await createTestTpp(assent);
    const customer = await createTestCustomer(assent.db);
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const request = await pushAuthorizationRequest(tpp, {}, { DPoP: dpop });
    const callback = await new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer).authorize(request.url, customer);
    const tokens = await redeemCode(tpp, callback, request, { dpop });

    const otherKey = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    await assert.rejects(oidc.fetchUserInfo(tpp.config, tokens.access_token, customer.id, { DPoP: otherKey }));
    await assert.rejects(oidc.fetchUserInfo(tpp.config, tokens.access_token, customer.id));
  });

  test('the customer denying consent sends access_denied to the TPP', async () => {
    const tpp = await createTestTpp(assent);
    const customer = await createTestCustomer(assent.db);
    const request = await pushAuthorizationRequest(tpp);
    const callback = await new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer).authorize(request.url, customer, 'deny');
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('code'), null);
  });
});

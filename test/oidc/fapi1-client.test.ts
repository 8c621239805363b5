import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer } from '../support/customers.ts';
import { createTestTpp, pushAuthorizationRequest } from '../support/tpp.ts';
import { useAssent } from '../support/fixture.ts';

describe('FAPI 1.0 Advanced, selected per client', () => {
  const assent = useAssent();

  test('a "1.0 Final" client completes a code flow with JARM and mTLS-bound tokens', async () => {
    const tpp = await createTestTpp(assent, {
      auth: 'private_key_jwt',
      metadata: {
        fapi_profile: '1.0 Final',
        tls_client_certificate_bound_access_tokens: true,
        dpop_bound_access_tokens: false,
        authorization_signed_response_alg: 'PS256',
      },
    });
    oidc.useJwtResponseMode(tpp.config);
    const customer = await createTestCustomer(assent.db);
    const request = await pushAuthorizationRequest(tpp, { response_mode: 'jwt' });
    const callback = await new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer).authorize(request.url, customer);
    assert.ok(callback.searchParams.get('response'), 'the authorization response is a signed JWT (JARM)');
    assert.equal(callback.searchParams.get('code'), null, 'no bare code in the query');

    const tokens = await oidc.authorizationCodeGrant(tpp.config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    const introspected = await oidc.tokenIntrospection(tpp.config, tokens.access_token);
    assert.ok((introspected.cnf as Record<string, string>)['x5t#S256']);
  });

  test('a "1.0 Final" client without mTLS-bound tokens is refused', async () => {
    const tpp = await createTestTpp(assent, { metadata: { fapi_profile: '1.0 Final' } });
    await assert.rejects(
      pushAuthorizationRequest(tpp, { response_mode: 'jwt' }),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_client_metadata',
    );
  });
});

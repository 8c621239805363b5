import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { issueCertificate } from '../../src/http/dev-pki.ts';
import { type TestAssent, startTestAssent, tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer } from '../support/customers.ts';
import { createTestTpp, fetchVia, pushAuthorizationRequest, type TestTpp } from '../support/tpp.ts';
import { useAssent } from '../support/fixture.ts';

function thumbprint(pem: string) {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');
}

const isInvalidClient = (error: oidc.ResponseBodyError) => error.error === 'invalid_client';

/** The same TPP configuration, but its connections present `certificate` (or none). */
function withCertificate(assent: TestAssent, tpp: TestTpp, certificate?: { certPem: string; keyPem: string }) {
  const config = new oidc.Configuration(tpp.config.serverMetadata(), tpp.clientId, {}, oidc.TlsClientAuth());
  config[oidc.customFetch] = fetchVia(tlsAgent(assent.ca.certPem, certificate));
  return config;
}

describe('FAPI 2.0 flow with tls_client_auth and certificate-bound tokens over real TLS', () => {
  const assent = useAssent();

  test('the access token is bound to the client certificate', async () => {
    const tpp = await createTestTpp(assent, { auth: 'tls_client_auth' });
    const customer = await createTestCustomer(assent.db);
    const request = await pushAuthorizationRequest(tpp);
    const callback = await new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer).authorize(request.url, customer);
    const tokens = await oidc.authorizationCodeGrant(tpp.config, callback, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');

    const introspected = await oidc.tokenIntrospection(tpp.config, tokens.access_token);
    assert.equal(introspected.active, true);
    assert.equal((introspected.cnf as Record<string, string>)['x5t#S256'], thumbprint(tpp.certificate.certPem));

    const userinfo = await oidc.fetchUserInfo(tpp.config, tokens.access_token, customer.id);
    assert.equal(userinfo.sub, customer.id);

    const other = await issueCertificate(assent.ca, { subject: 'CN=someone-else,O=Other TPP', usage: 'client' });
    await assert.rejects(
      oidc.fetchUserInfo(withCertificate(assent, tpp, other), tokens.access_token, customer.id),
      (error: oidc.WWWAuthenticateChallengeError) => error.status === 401,
    );
    await assert.rejects(
      oidc.fetchUserInfo(withCertificate(assent, tpp), tokens.access_token, customer.id),
      (error: oidc.WWWAuthenticateChallengeError) => error.status === 401,
    );
  });

  test('a token request without the certificate, or with another one, fails client authentication', async () => {
    const tpp = await createTestTpp(assent, { auth: 'tls_client_auth' });
    const granted = await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' });
    assert.ok(granted.access_token);

    await assert.rejects(oidc.clientCredentialsGrant(withCertificate(assent, tpp), { scope: 'accounts' }), isInvalidClient);
    const wrongSubject = await issueCertificate(assent.ca, { subject: 'CN=not-this-tpp,O=Test TPP,C=GB', usage: 'client' });
    await assert.rejects(oidc.clientCredentialsGrant(withCertificate(assent, tpp, wrongSubject), { scope: 'accounts' }), isInvalidClient);
  });

  test('a certificate with the right subject but from an untrusted CA is refused', async () => {
    const tpp = await createTestTpp(assent, { auth: 'tls_client_auth' });
    const rogueCa = await startTestAssent();
    try {
      const subject = new X509Certificate(tpp.certificate.certPem).subject.split('\n').toReversed().join(',');
      const forged = await issueCertificate(rogueCa.ca, { subject, usage: 'client' });
      await assert.rejects(
        oidc.clientCredentialsGrant(withCertificate(assent, tpp, forged), { scope: 'accounts' }),
        (error: oidc.ResponseBodyError) => error.error === 'invalid_client',
      );
    } finally {
      await rogueCa.stop();
    }
  });
});

import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { fetch } from 'undici';
import { issueCertificate } from '../../src/http/dev-pki.ts';
import { saveClient } from '../../src/store/clients.ts';
import { type TestAssent } from '../support/assent.ts';
import { useAssent } from '../support/fixture.ts';

function handshake(port: number, ca: string, options: tls.ConnectionOptions) {
  return new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, ...options }, () => {
      const protocol = socket.getProtocol() ?? '';
      socket.end();
      resolve(protocol);
    });
    socket.once('error', reject);
  });
}

describe('TLS listener', () => {
  const assent = useAssent();

  test('speaks TLS 1.3 and FAPI TLS 1.2 suites, nothing older or weaker', async () => {
    assert.equal(await handshake(assent.port, assent.ca.certPem, {}), 'TLSv1.3');
    assert.equal(
      await handshake(assent.port, assent.ca.certPem, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }),
      'TLSv1.2',
    );
    await assert.rejects(
      handshake(assent.port, assent.ca.certPem, { maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA256:ECDHE-RSA-AES128-SHA' }),
    );
    await assert.rejects(
      handshake(assent.port, assent.ca.certPem, { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
    );
  });

  test('refuses TLS 1.2 renegotiation: a connection cannot swap its client certificate', async () => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: assent.port,
      servername: 'localhost',
      ca: assent.ca.certPem,
      maxVersion: 'TLSv1.2',
    });
    await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const outcome = await new Promise<string>((resolve) => {
      socket.once('error', (error: Error & { code?: string }) => resolve(error.code ?? error.message));
      socket.renegotiate({}, (error) => resolve(error ? `callback: ${error.message}` : 'renegotiated'));
    });
    socket.destroy();
    assert.equal(outcome, 'ERR_SSL_NO_RENEGOTIATION');
  });
});

describe('behind a TLS-terminating proxy', () => {
  const clientId = 'proxied-tpp';
  const subject = 'CN=proxied-tpp,O=Proxied TPP,C=GB';
  let certificatePem: string;

  async function register(assent: TestAssent) {
    await saveClient(assent.db, {
      client_id: clientId,
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: subject,
      tls_client_certificate_bound_access_tokens: true,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'accounts',
    });
  }

  function tokenRequest(assent: TestAssent, certificate: string | undefined) {
    return fetch(`http://127.0.0.1:${assent.port}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-proto': 'https',
        ...(certificate && { 'x-client-cert': encodeURIComponent(certificate) }),
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, scope: 'accounts' }).toString(),
    });
  }

  const trusted = useAssent({ TLS_TERMINATED_BY_PROXY: 'true', TRUSTED_PROXIES: '127.0.0.1' });
  const untrusted = useAssent({ TLS_TERMINATED_BY_PROXY: 'true', TRUSTED_PROXIES: '192.0.2.10' });
  before(async () => {
    certificatePem = (await issueCertificate(trusted.ca, { subject, usage: 'client' })).certPem;
    await register(trusted);
    await register(untrusted);
  });
  after(async () => {
    await Promise.all([trusted?.stop(), untrusted?.stop()]);
  });

  test('a certificate forwarded by a trusted proxy authenticates the client and binds the token', async () => {
    const response = await tokenRequest(trusted, certificatePem);
    const body = (await response.json()) as { access_token: string };
    assert.equal(response.status, 200);
    const introspection = await fetch(`http://127.0.0.1:${trusted.port}/token/introspection`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-proto': 'https',
        'x-client-cert': encodeURIComponent(certificatePem),
      },
      body: new URLSearchParams({ token: body.access_token, client_id: clientId }).toString(),
    });
    const introspected = (await introspection.json()) as { active: boolean; cnf: Record<string, string> };
    assert.equal(introspected.active, true);
    assert.equal(introspected.cnf['x5t#S256'], createHash('sha256').update(new X509Certificate(certificatePem).raw).digest('base64url'));
  });

  test('no certificate header means no client certificate', async () => {
    const response = await tokenRequest(trusted, undefined);
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_client');
  });

  test('the header is ignored when the request does not come from a trusted proxy', async () => {
    const forged = (await issueCertificate(untrusted.ca, { subject, usage: 'client' })).certPem;
    const response = await tokenRequest(untrusted, forged);
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_client');
  });
});

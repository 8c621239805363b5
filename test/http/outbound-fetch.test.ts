import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { issueCertificate } from '../../src/http/dev-pki.ts';
import { createOutboundFetch, isForbiddenAddress, type OutboundFetch } from '../../src/http/outbound-fetch.ts';
import { createDirectoryKeyring, DirectoryKeysUnavailable } from '../../src/tpp/trusted-directories.ts';
import { type TestAssent } from '../support/assent.ts';
import { callRegistration, dpopClientMetadata, issueSsa, tppFromRegistration } from '../support/onboarding.ts';
import { useAssent } from '../support/fixture.ts';

/** A small HTTPS server on localhost with a dev-CA certificate; each path answers as the test needs. */
async function startSite(assent: TestAssent, routes: Record<string, (res: import('node:http').ServerResponse) => void>) {
  const pair = await issueCertificate(assent.ca, {
    subject: 'CN=localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  const server = https.createServer({ cert: pair.certPem, key: pair.keyPem }, (req, res) => {
    const route = routes[req.url ?? ''];
    if (route) route(res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://localhost:${port}`,
    ipOrigin: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('the SSRF guard for outbound fetches', () => {
  let site: Awaited<ReturnType<typeof startSite>>;
  let jwks: { keys: unknown[] };
  let guard: OutboundFetch;
  let directoryFetches = 0;
  const settings = { connectTimeoutMs: 1000, totalTimeoutMs: 1500, maxResponseBytes: 4096 };

  const assent = useAssent({ OUTBOUND_ALLOWED_HOSTS: 'localhost' });
  before(async () => {
    const kit = await issueSsa(assent);
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = kit.privateJwk;
    jwks = { keys: [publicJwk] };
    site = await startSite(assent, {
      '/jwks.json': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)),
      '/directory-jwks.json': (res) => {
        directoryFetches += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
      },
      '/redirect': (res) => res.writeHead(302, { location: 'https://169.254.169.254/' }).end(),
      '/huge': (res) => res.writeHead(200).end('x'.repeat(10_000)),
      '/slow': () => undefined,
    });
    guard = createOutboundFetch({ ...settings, allowedHosts: ['localhost'], extraCaPem: assent.ca.certPem });
  });
  after(async () => {
    await site?.close();
  });

  test('forbidden address ranges', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
    ]) {
      assert.equal(isForbiddenAddress(address), true, address);
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) assert.equal(isForbiddenAddress(address), false, address);
  });

  test('an allow-listed host is fetched; the same host unlisted, by name or by address, is not', async () => {
    assert.deepEqual(await guard.json(`${site.origin}/jwks.json`), jwks);
    const strict = createOutboundFetch({ ...settings, allowedHosts: [], extraCaPem: assent.ca.certPem });
    await assert.rejects(strict.json(`${site.origin}/jwks.json`), /resolves to a forbidden address/);
    await assert.rejects(strict.json(`${site.ipOrigin}/jwks.json`), /forbidden address/);
  });

  test('http, credentials in the URL, redirects, oversized and slow responses are refused', async () => {
    await assert.rejects(guard.json(site.origin.replace('https:', 'http:')), /only https/);
    await assert.rejects(guard.json(`https://user:secret@localhost:${new URL(site.origin).port}/jwks.json`), /credentials/);
    await assert.rejects(guard.json(`${site.origin}/redirect`), /redirects are not followed/);
    await assert.rejects(guard.json(`${site.origin}/huge`), /larger than 4096 bytes/);
    const started = Date.now();
    await assert.rejects(guard.json(`${site.origin}/slow`), /within 1500 ms/);
    assert.ok(Date.now() - started < 3000);
  });

  test('a directory JWKS by URL is fetched through the guard and cached for the refresh interval', async () => {
    const keyring = createDirectoryKeyring([{ issuer: 'Remote Directory', jwks: `${site.origin}/directory-jwks.json` }], guard, 3600);
    assert.deepEqual(await keyring.keysFor('Remote Directory'), jwks);
    await keyring.keysFor('Remote Directory');
    assert.equal(directoryFetches, 1);

    const strict = createOutboundFetch({ ...settings, allowedHosts: [], extraCaPem: assent.ca.certPem });
    const unreachable = createDirectoryKeyring(
      [{ issuer: 'Internal Directory', jwks: `${site.origin}/directory-jwks.json` }],
      strict,
      3600,
    );
    await assert.rejects(unreachable.keysFor('Internal Directory'), DirectoryKeysUnavailable);
    assert.equal(directoryFetches, 1, 'the guard refused before any connection');
  });

  test("oidc-provider fetches a client's jwks_uri through the guard (allow-listed here), at registration and at authentication", async () => {
    const kit = await issueSsa(assent);
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = kit.privateJwk;
    jwks.keys.push(publicJwk);
    const registered = await callRegistration(assent, kit.agent, {
      json: dpopClientMetadata(kit, { jwks_uri: `${site.origin}/jwks.json` }),
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    assert.equal(registered.body.jwks_uri, `${site.origin}/jwks.json`);
    const tpp = await tppFromRegistration(assent, kit, String(registered.body.client_id));
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    assert.ok((await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: dpop })).access_token);
  });
});

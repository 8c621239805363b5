import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetch } from 'undici';
import { loopbackFetch } from '../../src/dashboard/loopback-fetch.ts';
import { rewriteForwarded } from '../../src/http/forwarded-headers.ts';
import { OwnConnections, trustedProxyCheck } from '../../src/http/trusted-proxies.ts';
import { useAssent } from '../support/fixture.ts';

/** The "proxy": requests leaving from 127.0.0.2, the only address in TRUSTED_PROXIES. Clients connect from 127.0.0.1. */
const PROXY_ADDRESS = '127.0.0.2';
const LIMIT = 3;

describe('forwarded headers are believed only from TRUSTED_PROXIES (rate limits behind the proxy)', () => {
  const direct = '127.0.0.1';
  const viaProxy = PROXY_ADDRESS;

  const assent = useAssent({ TLS_TERMINATED_BY_PROXY: 'true', TRUSTED_PROXIES: PROXY_ADDRESS, RATE_LIMIT_TOKEN: `${LIMIT}/60` });

  /** A POST to /token (a real, limited route) from the given local address: 401 for the unknown client, 429 once its key is over the limit. */
  function tokenStatus(localAddress: string, forwardedFor: string) {
    return new Promise<number>((resolve, reject) => {
      const sent = request(
        {
          host: '127.0.0.1',
          port: assent.port,
          localAddress,
          method: 'POST',
          path: '/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor, 'x-forwarded-proto': 'https' },
        },
        (response) => {
          response.resume();
          response.once('end', () => resolve(response.statusCode!));
        },
      );
      sent.once('error', reject);
      sent.end('grant_type=client_credentials&client_id=nobody');
    });
  }

  async function rateLimitKeys() {
    const rows = await assent.db.selectFrom('rate_limit').select(['key', 'hits']).where('key', 'like', 'token:%').orderBy('key').execute();
    return Object.fromEntries(rows.map((row) => [row.key, row.hits]));
  }

  test('a client talking to the server directly cannot pick its key with X-Forwarded-For', async () => {
    const statuses = [];
    for (let attempt = 0; attempt < LIMIT + 2; attempt += 1) statuses.push(await tokenStatus(direct, `203.0.113.${attempt + 1}`));
    assert.deepEqual(statuses, [401, 401, 401, 429, 429], 'every spoofed address counted against the socket address');
    assert.deepEqual(await rateLimitKeys(), { 'token:127.0.0.1': LIMIT + 2 });
  });

  test('through the trusted proxy, the key is the address the proxy saw, not what the client wrote in front of it', async () => {
    const statuses = [];
    // The client sends its own X-Forwarded-For; a proxy that appends puts the address it saw last.
    for (let attempt = 0; attempt < LIMIT + 2; attempt += 1)
      statuses.push(await tokenStatus(viaProxy, `198.51.100.${attempt + 1}, 192.0.2.44`));
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    // Another client behind the same proxy has its own budget, and the proxy's own hop is skipped.
    assert.equal(await tokenStatus(viaProxy, `192.0.2.55, ${PROXY_ADDRESS}`), 401);
    assert.equal(await tokenStatus(viaProxy, 'not-an-address, 192.0.2.56'), 401, 'a garbled hop is only a claim, not an error');
    const keys = await rateLimitKeys();
    assert.equal(keys['token:192.0.2.44'], LIMIT + 2);
    assert.equal(keys['token:192.0.2.55'], 1);
    assert.ok(!Object.keys(keys).some((key) => key.startsWith('token:198.51.100.')), 'no key the client chose');
  });

  test('the shipped nginx sets X-Forwarded-For to the address it saw instead of appending', async () => {
    const nginx = await readFile(new URL('../../deploy/nginx/assent.conf', import.meta.url), 'utf8');
    assert.match(nginx, /proxy_set_header X-Forwarded-For \$remote_addr;/);
    assert.doesNotMatch(nginx, /proxy_add_x_forwarded_for/);
  });
});

test("the server's own loopback requests keep their https marker; anyone else's from an untrusted peer is dropped", async () => {
  const ownConnections = new OwnConnections();
  const server = createServer((req, res) => {
    rewriteForwarded(req, { isTrustedProxy: () => false, ownConnections });
    res.end(req.headers['x-forwarded-proto'] ?? 'none');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const own = loopbackFetch({ host: '127.0.0.1', port, certificatePem: undefined, ownConnections });
    assert.equal(await (await own('https://issuer.example/jwks', { method: 'GET' } as never)).text(), 'https');
    const stranger = await fetch(`http://127.0.0.1:${port}/jwks`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.equal(await stranger.text(), 'none', "same loopback address, but not one of the server's own connections");
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('TRUSTED_PROXIES takes addresses and CIDR blocks, IPv4 peers on dual-stack sockets included', () => {
  const trusted = trustedProxyCheck(['172.28.0.10', '10.0.0.0/8', 'fd00::/8']);
  assert.ok(trusted('172.28.0.10') && trusted('::ffff:172.28.0.10'));
  assert.ok(trusted('10.200.3.4') && trusted('fd12::1'));
  assert.ok(!trusted('172.28.0.11') && !trusted('11.0.0.1') && !trusted('fe80::1'));
  assert.ok(!trusted(undefined) && !trusted('unknown'));
  assert.throws(() => trustedProxyCheck(['nginx']), /'nginx' is not an IP address or CIDR block/);
  assert.throws(() => trustedProxyCheck(['10.0.0.0/40']), /not an IP address or CIDR block/);
});

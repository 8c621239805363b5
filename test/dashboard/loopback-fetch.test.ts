import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loopbackFetch } from '../../src/dashboard/loopback-fetch.ts';
import { ensureDevPki, issueCertificate, type PemPair } from '../../src/http/dev-pki.ts';

interface Seen {
  host: string | undefined;
  forwardedProto: string | undefined;
  path: string | undefined;
}

function echo(seen: Seen[]) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.push({ host: req.headers.host, forwardedProto: req.headers['x-forwarded-proto'] as string | undefined, path: req.url });
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  };
}

async function listen(server: http.Server) {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const options = (headers: Record<string, string> = {}) => ({ method: 'GET', headers, body: undefined, redirect: 'manual' as const });

describe('the dashboard reaches Assent through the local listener, keeping the issuer URL', () => {
  let dataDir: string;
  let server: PemPair;
  let impostor: PemPair;
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'assent-loopback-'));
    const pki = await ensureDevPki(dataDir);
    server = pki.server;
    // Same CA, same name: only pinning tells it apart from the server's own certificate.
    impostor = await issueCertificate(pki.ca, { subject: 'CN=localhost', dnsNames: ['bank.example', 'localhost'], usage: 'server' });
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  test('over TLS: the issuer host travels in Host while the socket goes to the listener', async () => {
    const seen: Seen[] = [];
    const listener = https.createServer({ cert: server.certPem, key: server.keyPem }, echo(seen));
    const port = await listen(listener);
    try {
      const fetch = loopbackFetch({ host: '0.0.0.0', port, certificatePem: server.certPem });
      const response = await fetch('https://bank.example/token', options());
      assert.equal(response.status, 200);
      assert.deepEqual(seen, [{ host: 'bank.example', forwardedProto: undefined, path: '/token' }]);
    } finally {
      listener.closeAllConnections();
      listener.close();
    }
  });

  test('a later connection is pinned too, and accepted: no TLS session is resumed without the certificate', async () => {
    const seen: Seen[] = [];
    const listener = https.createServer({ cert: server.certPem, key: server.keyPem }, echo(seen));
    const port = await listen(listener);
    try {
      const fetch = loopbackFetch({ host: '127.0.0.1', port, certificatePem: server.certPem });
      for (let connection = 0; connection < 3; connection++) {
        assert.equal((await fetch('https://bank.example/token', options())).status, 200, `connection ${connection + 1}`);
        // The next request needs a new connection, which could resume this one's TLS session.
        listener.closeAllConnections();
      }
      assert.equal(seen.length, 3);
    } finally {
      listener.closeAllConnections();
      listener.close();
    }
  });

  test('a listener presenting any other certificate is refused', async () => {
    const seen: Seen[] = [];
    const listener = https.createServer({ cert: impostor.certPem, key: impostor.keyPem }, echo(seen));
    const port = await listen(listener);
    try {
      const fetch = loopbackFetch({ host: '127.0.0.1', port, certificatePem: server.certPem });
      await assert.rejects(fetch('https://bank.example/token', options()));
      assert.deepEqual(seen, [], 'nothing was sent');
    } finally {
      listener.closeAllConnections();
      listener.close();
    }
  });

  test('behind a TLS-terminating proxy: plain HTTP to the listener, marked as having arrived over https', async () => {
    const seen: Seen[] = [];
    const listener = http.createServer(echo(seen));
    const port = await listen(listener);
    try {
      const fetch = loopbackFetch({ host: '127.0.0.1', port, certificatePem: undefined });
      const response = await fetch('https://bank.example/par', options({ accept: 'application/json' }));
      assert.equal(response.status, 200);
      assert.deepEqual(seen, [{ host: 'bank.example', forwardedProto: 'https', path: '/par' }]);
    } finally {
      listener.closeAllConnections();
      listener.close();
    }
  });
});

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Provider, type ClientMetadata, type Configuration } from 'oidc-provider';
import { createClientCertificateReader } from '../src/http/client-certificate.ts';
import { ensureDevPki } from '../src/http/dev-pki.ts';
import { httpsOptions, parseCertificateBundle } from '../src/http/tls.ts';
import { generateSigningKey } from '../src/oidc/keys.ts';
import { FAPI_ALGORITHMS } from '../src/protocol/algorithms.ts';
import { fapiConfiguration } from '../src/oidc/provider.ts';
import { type BareCustomer, barePages } from './bare-pages.ts';

/**
 * The baseline of `npm run bench`: plain oidc-provider with Assent's FAPI settings (the same
 * fapiConfiguration the server builds on), its own in-memory adapter, the bench clients as static
 * clients, served on the same TLS settings and dev PKI, and nothing of Assent's around it, with the least
 * pages the complete flow needs (bench/bare-pages.ts). Prints the same ready line as bench/server.ts.
 */

const dataDir = process.env.DATA_DIR!;
const pki = await ensureDevPki(dataDir);
const material = { certPem: pki.server.certPem, keyPem: pki.server.keyPem, clientCaPem: pki.ca.certPem };
const presentedCertificate = createClientCertificateReader({
  terminatedByProxy: false,
  header: 'x-client-cert',
  trustedProxies: [],
  trustedCas: parseCertificateBundle(material.clientCaPem),
});
const clients = JSON.parse(await readFile(process.env.BENCH_CLIENTS_FILE!, 'utf8')) as ClientMetadata[];

const server = https.createServer(httpsOptions(material));
server.keepAliveTimeout = 65_000;
const address = await new Promise<AddressInfo>((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo)));
const issuer = `https://localhost:${address.port}`;

const signing = await Promise.all(FAPI_ALGORITHMS.map((alg) => generateSigningKey(alg)));
const provider = new Provider(issuer, {
  ...fapiConfiguration(presentedCertificate),
  clients,
  jwks: { keys: signing as NonNullable<Configuration['jwks']>['keys'] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  ttl: { ClientCredentials: 3600, AccessToken: 3600 },
});
const customers = JSON.parse(await readFile(process.env.BENCH_BARE_CUSTOMERS_FILE!, 'utf8')) as BareCustomer[];
const pages = barePages(provider, customers);
const engine = provider.callback();
server.on('request', (req, res) => {
  pages(req, res).then(
    (served) => {
      if (!served) engine(req, res);
    },
    (error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    },
  );
});

process.stdout.write(`${JSON.stringify({ msg: 'bench server ready', port: address.port, issuer, pid: process.pid })}\n`);

process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});

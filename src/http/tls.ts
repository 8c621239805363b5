import { constants, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ServerOptions } from 'node:https';

/**
 * TLS 1.3 suites plus the four TLS 1.2 suites FAPI permits (all ECDHE/DHE with AES-GCM), so a
 * downgrade can only land on forward-secret AEAD ciphers.
 */
export const FAPI_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
].join(':');

export interface TlsMaterial {
  certPem: string;
  keyPem: string;
  /** PEM bundle of CAs that issue TPP client certificates. */
  clientCaPem: string | undefined;
}

/**
 * Requests but does not require a client certificate: the token endpoint decides per client.
 * TLS 1.2 renegotiation is refused (RFC 7457's renegotiation attacks; a client could otherwise swap the
 * certificate of a live connection), so a connection's client certificate is fixed for its whole life
 * and is read once per connection (client-certificate.ts).
 */
export function httpsOptions(material: TlsMaterial): ServerOptions {
  return {
    cert: material.certPem,
    key: material.keyPem,
    ...(material.clientCaPem && { ca: material.clientCaPem }),
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    ciphers: FAPI_CIPHERS,
    honorCipherOrder: true,
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
  };
}

export function parseCertificateBundle(pem: string | undefined): X509Certificate[] {
  if (!pem) return [];
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

export async function readOptional(file: string | undefined): Promise<string | undefined> {
  return file ? readFile(file, 'utf8') : undefined;
}

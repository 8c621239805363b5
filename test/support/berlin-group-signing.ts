import { createHash, sign, X509Certificate } from 'node:crypto';
import { X509Certificate as ParsedCertificate } from '@peculiar/x509';
import type { PemPair } from '../../src/http/dev-pki.ts';
import type { SignedRequest } from '../../src/tpp/request-signature.ts';

export interface SigningOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  algorithm?: string;
  /** The headers the signature covers, in order; by default every one the guidelines name that is present. */
  covered?: string[];
  keyId?: string;
  /** Signs with this key instead of the certificate's own. */
  signingKey?: string;
  digestAlgorithm?: 'SHA-256' | 'SHA-512';
  /** How an ECDSA signature is encoded (DER by default, as Java and OpenSSL do). */
  dsaEncoding?: 'der' | 'ieee-p1363';
}

/** A request signed as NextGenPSD2 1.3 defines it, with the QSealC's key unless told otherwise. */
export function signRequest(qseal: PemPair, options: SigningOptions = {}): Omit<SignedRequest, 'qwacTpp'> {
  const method = options.method ?? 'POST';
  const target = options.path ?? '/v1/consents';
  const body = Buffer.from(options.body ?? '{"access":{"allPsd2":"allAccounts"}}');
  const digestAlgorithm = options.digestAlgorithm ?? 'SHA-256';
  const headers: Record<string, string> = {
    'x-request-id': '99391c7e-ad88-49ec-a2ad-99ddcb1f7721',
    date: new Date().toUTCString(),
    digest: `${digestAlgorithm}=${createHash(digestAlgorithm === 'SHA-256' ? 'sha256' : 'sha512')
      .update(body)
      .digest('base64')}`,
    'tpp-signature-certificate': new X509Certificate(qseal.certPem).raw.toString('base64'),
    ...options.headers,
  };
  const covered =
    options.covered ??
    ['digest', 'x-request-id', 'date', 'psu-id', 'psu-corporate-id', 'tpp-redirect-uri'].filter((name) => name in headers);
  const signingString = covered
    .map((name) => (name === '(request-target)' ? `${name}: ${method.toLowerCase()} ${target}` : `${name}: ${headers[name]}`))
    .join('\n');
  const certificate = new X509Certificate(qseal.certPem);
  const algorithm = options.algorithm ?? (certificate.publicKey.asymmetricKeyType === 'rsa' ? 'rsa-sha256' : 'ecdsa-sha256');
  const signature = sign(algorithm.endsWith('512') ? 'sha512' : 'sha256', Buffer.from(signingString), {
    key: options.signingKey ?? qseal.keyPem,
    dsaEncoding: options.dsaEncoding ?? 'der',
  });
  const keyId = options.keyId ?? `SN=${certificate.serialNumber},CA=${new ParsedCertificate(qseal.certPem).issuer}`;
  headers.signature = `keyId="${keyId}",algorithm="${algorithm}",headers="${covered.join(' ')}",signature="${signature.toString('base64')}"`;
  return { method, path: target, headers, body };
}

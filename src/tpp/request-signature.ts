import { createHash, verify as verifySignature, X509Certificate } from 'node:crypto';
import { certificateIssuerIs } from '../http/certificate-subject.ts';
import { AssentError } from '../protocol/assent-error.ts';
import { CertificateInvalid, type EidasTpp, identifyEidasCertificate } from './eidas-identity.ts';
import type { EidasTrustSnapshot } from './eidas-trust.ts';
import { normalSerial } from './eidas-trust.ts';

/**
 * Berlin Group NextGenPSD2 request signing (Implementation Guidelines 1.3.x, "Signing messages at
 * application layer", after draft-cavage-http-signatures-10): the TPP seals each request with its QSealC.
 * - `Digest`: `SHA-256=<base64>` or `SHA-512=<base64>` of the body as sent (of nothing when there is none).
 * - `Signature`: keyId="SN=<serial, hex>,CA=<issuer DN>", algorithm, headers, signature; the signed
 *   headers cover digest and x-request-id always, and date, psu-id, psu-corporate-id and
 *   tpp-redirect-uri whenever the request carries them; (request-target) may be signed too.
 * - `TPP-Signature-Certificate`: the QSealC, base64 DER (PEM accepted), trusted as a QWAC is (chain,
 *   validity, revocation, PSD2 statement) and naming the same organizationIdentifier as the QWAC.
 * Refusals: signature_invalid (Berlin Group SIGNATURE_INVALID) for the headers and the signature,
 * certificate_invalid / certificate_expired for the QSealC.
 */

export class SignatureInvalid extends AssentError {
  override name = 'SignatureInvalid';
  constructor(message: string, options?: { cause?: unknown }) {
    super('signature_invalid', message, { status: 401, ...options });
  }
}

export interface SignedRequest {
  method: string;
  /** The request target: path and query as sent. */
  path: string;
  /** Node's lower-cased request headers. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body's bytes as received. */
  body: Uint8Array;
  /** The TPP its QWAC (mTLS) identified. */
  qwacTpp: EidasTpp;
}

/** Headers the signature must cover: always, and whenever the request carries them. */
const ALWAYS_SIGNED = ['digest', 'x-request-id'] as const;
const SIGNED_WHEN_PRESENT = ['date', 'psu-id', 'psu-corporate-id', 'tpp-redirect-uri'] as const;
const REQUEST_TARGET = '(request-target)';

/** The algorithms accepted, each with its hash and the key type that must make it. */
const ALGORITHMS: Record<string, { hash: string; keyType: 'rsa' | 'ec' }> = {
  'rsa-sha256': { hash: 'sha256', keyType: 'rsa' },
  'rsa-sha512': { hash: 'sha512', keyType: 'rsa' },
  'ecdsa-sha256': { hash: 'sha256', keyType: 'ec' },
};

const DIGESTS: Record<string, string> = { 'sha-256': 'sha256', 'sha-512': 'sha512' };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** One header's value as signed: repeated headers joined by ", ", leading and trailing space dropped. */
function headerValue(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value.join(', ') : value).trim();
}

/** RFC 3230 Digest: every entry of an algorithm we know must match the body, and there must be one. */
function checkDigest(header: string, body: Uint8Array): void {
  let checked = 0;
  for (const entry of header.split(',')) {
    const separator = entry.indexOf('=');
    if (separator < 1) throw new SignatureInvalid('the Digest header is not <algorithm>=<base64>');
    const hash = DIGESTS[entry.slice(0, separator).trim().toLowerCase()];
    if (!hash) continue;
    const expected = createHash(hash).update(body).digest('base64');
    if (entry.slice(separator + 1).trim() !== expected) throw new SignatureInvalid('the Digest header does not match the body');
    checked += 1;
  }
  if (checked === 0) throw new SignatureInvalid('the Digest header has no SHA-256 or SHA-512 entry');
}

/** The Signature header's parameters: name="value" pairs separated by commas, each name once. */
export function parseSignatureHeader(header: string): Map<string, string> {
  const parameters = new Map<string, string>();
  const pattern = /\s*([A-Za-z]+)\s*=\s*"([^"]*)"\s*(,|$)/y;
  let position = 0;
  const text = header.replace(/^Signature\s+/i, '');
  while (position < text.length) {
    pattern.lastIndex = position;
    const match = pattern.exec(text);
    if (!match) throw new SignatureInvalid('the Signature header is not a list of name="value" parameters');
    const name = match[1]!.toLowerCase();
    if (parameters.has(name)) throw new SignatureInvalid(`the Signature header names ${name} twice`);
    parameters.set(name, match[2]!);
    position = pattern.lastIndex;
    if (match[3] === '') break;
  }
  return parameters;
}

function requiredParameter(parameters: Map<string, string>, name: string): string {
  const value = parameters.get(name);
  if (value === undefined || value === '') throw new SignatureInvalid(`the Signature header has no ${name}`);
  return value;
}

/** keyId="SN=<serial in hex>,CA=<issuer DN>": it must name the TPP-Signature-Certificate. */
function checkKeyId(keyId: string, certificate: X509Certificate): void {
  const match = /^SN=([0-9A-Fa-f]+),\s*CA=(.+)$/.exec(keyId);
  if (!match) throw new SignatureInvalid('the Signature keyId is not SN=<serial number in hex>,CA=<issuer DN>');
  if (normalSerial(match[1]!) !== normalSerial(certificate.serialNumber)) {
    throw new SignatureInvalid(
      `the Signature keyId names serial ${match[1]}, the TPP-Signature-Certificate has ${certificate.serialNumber}`,
    );
  }
  const issuer = match[2]!.includes('%') ? safeDecode(match[2]!) : match[2]!;
  if (!certificateIssuerIs(certificate, issuer)) {
    throw new SignatureInvalid('the Signature keyId names another CA than the issuer of the TPP-Signature-Certificate');
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch (cause) {
    throw new SignatureInvalid('the Signature keyId has a malformed percent-encoding', { cause });
  }
}

/** The QSealC of TPP-Signature-Certificate: base64 DER as the guidelines define it, or PEM. */
function signatureCertificate(header: string): X509Certificate {
  const text = header.trim();
  const der = text.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s/g, '');
  if (!BASE64.test(der)) throw new CertificateInvalid('TPP-Signature-Certificate is not a base64 DER certificate');
  try {
    return new X509Certificate(Buffer.from(der, 'base64'));
  } catch (cause) {
    throw new CertificateInvalid('TPP-Signature-Certificate is not a certificate', { cause });
  }
}

/** Which headers the signature covers, checked against what the request carries. */
function signedHeaders(list: string, request: SignedRequest): string[] {
  const names = list.toLowerCase().split(/\s+/).filter(Boolean);
  if (new Set(names).size !== names.length) throw new SignatureInvalid('the Signature headers list names a header twice');
  for (const name of ALWAYS_SIGNED) {
    if (!names.includes(name)) throw new SignatureInvalid(`the signature must cover ${name}`);
  }
  for (const name of SIGNED_WHEN_PRESENT) {
    if (request.headers[name] !== undefined && !names.includes(name))
      throw new SignatureInvalid(`the signature must cover ${name}, which the request carries`);
  }
  for (const name of names) {
    if (name !== REQUEST_TARGET && request.headers[name] === undefined)
      throw new SignatureInvalid(`the signature covers ${name}, which the request lacks`);
  }
  return names;
}

/** draft-cavage-http-signatures-10 2.3: one `name: value` line per signed header, in the order listed. */
function signingString(names: string[], request: SignedRequest): string {
  return names
    .map((name) =>
      name === REQUEST_TARGET
        ? `${name}: ${request.method.toLowerCase()} ${request.path}`
        : `${name}: ${headerValue(request.headers, name)}`,
    )
    .join('\n');
}

/** ECDSA signatures come DER-encoded (Java, OpenSSL) or as r||s (WebCrypto, JWS): either verifies. */
function verifies(
  algorithm: { hash: string; keyType: 'rsa' | 'ec' },
  data: Buffer,
  certificate: X509Certificate,
  signature: Buffer,
): boolean {
  if (algorithm.keyType === 'rsa') return verifySignature(algorithm.hash, data, certificate.publicKey, signature);
  return (
    verifySignature(algorithm.hash, data, { key: certificate.publicKey, dsaEncoding: 'der' }, signature) ||
    verifySignature(algorithm.hash, data, { key: certificate.publicKey, dsaEncoding: 'ieee-p1363' }, signature)
  );
}

/**
 * A signed Berlin Group request, verified: returns when the Digest matches the body, the Signature
 * covers what it must and verifies with the TPP-Signature-Certificate's key, and that certificate is a
 * trusted QSealC of the same TPP as the QWAC. Otherwise throws SignatureInvalid, CertificateInvalid or
 * CertificateExpired with what was wrong.
 */
export function verifyRequestSignature(request: SignedRequest, trust: EidasTrustSnapshot, now = new Date()): void {
  const digest = headerValue(request.headers, 'digest');
  const signature = headerValue(request.headers, 'signature');
  const certificateHeader = headerValue(request.headers, 'tpp-signature-certificate');
  if (!digest) throw new SignatureInvalid('the Digest header is required');
  if (!signature) throw new SignatureInvalid('the Signature header is required');
  if (!certificateHeader) throw new SignatureInvalid('the TPP-Signature-Certificate header is required');
  checkDigest(digest, request.body);

  const certificate = signatureCertificate(certificateHeader);
  const sealer = identifyEidasCertificate(certificate, trust, now);
  if (sealer.organizationId !== request.qwacTpp.organizationId) {
    throw new CertificateInvalid(
      `TPP-Signature-Certificate belongs to ${sealer.organizationId}, the TLS client certificate to ${request.qwacTpp.organizationId}`,
    );
  }

  const parameters = parseSignatureHeader(signature);
  const algorithmName = requiredParameter(parameters, 'algorithm').toLowerCase();
  const algorithm = ALGORITHMS[algorithmName];
  if (!algorithm) throw new SignatureInvalid(`algorithm ${algorithmName} is not one of ${Object.keys(ALGORITHMS).join(', ')}`);
  const keyType = certificate.publicKey.asymmetricKeyType;
  if (keyType !== algorithm.keyType) throw new SignatureInvalid(`algorithm ${algorithmName} does not fit the certificate's ${keyType} key`);
  checkKeyId(requiredParameter(parameters, 'keyid'), certificate);
  const names = signedHeaders(requiredParameter(parameters, 'headers'), request);
  const value = requiredParameter(parameters, 'signature');
  if (!BASE64.test(value)) throw new SignatureInvalid('the signature is not base64');
  if (!verifies(algorithm, Buffer.from(signingString(names, request)), certificate, Buffer.from(value, 'base64'))) {
    throw new SignatureInvalid('the signature does not verify with the TPP-Signature-Certificate');
  }
}

import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { X509Certificate as ParsedCertificate } from '@peculiar/x509';
import { ensureDevPki, issueCertificate, type PemPair } from '../../src/http/dev-pki.ts';
import { AssentError } from '../../src/protocol/assent-error.ts';
import { type EidasTpp, identifyEidasCertificate } from '../../src/tpp/eidas-identity.ts';
import { type EidasTrustSnapshot, readEidasTrust } from '../../src/tpp/eidas-trust.ts';
import { parseSignatureHeader, type SignedRequest, verifyRequestSignature } from '../../src/tpp/request-signature.ts';
import { signRequest } from '../support/berlin-group-signing.ts';

const ORGANIZATION_ID = 'PSDDE-BAFIN-123456';
const PSD2 = { roles: ['PSP_AI', 'PSP_PI'] as ('PSP_AI' | 'PSP_PI')[], ncaName: 'BaFin', ncaId: 'DE-BAFIN' };
const subject = (organizationId = ORGANIZATION_ID) => `CN=Kontoblick Seal,organizationIdentifier=${organizationId},O=Kontoblick GmbH,C=DE`;

describe('Berlin Group request signatures: Digest, Signature and TPP-Signature-Certificate', () => {
  let directory: string;
  let ca: PemPair;
  let trust: EidasTrustSnapshot;
  let qwacTpp: EidasTpp;
  let qseal: PemPair;

  /** The code and message of the refusal, or 'accepted'. */
  function verdict(request: Omit<SignedRequest, 'qwacTpp'>, tpp = qwacTpp): string {
    try {
      verifyRequestSignature({ ...request, qwacTpp: tpp }, trust);
      return 'accepted';
    } catch (error) {
      assert.ok(error instanceof AssentError, String(error));
      assert.equal(error.status, 401);
      return `${error.code}: ${error.message}`;
    }
  }

  before(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'assent-signature-'));
    ({ ca } = await ensureDevPki(directory));
    await writeFile(path.join(directory, 'cas.pem'), ca.certPem);
    trust = await readEidasTrust({ caFile: path.join(directory, 'cas.pem'), crlFile: undefined });
    const qwac = await issueCertificate(ca, { subject: subject(), usage: 'client', psd2: PSD2 });
    qwacTpp = identifyEidasCertificate(new X509Certificate(qwac.certPem), trust);
    qseal = await issueCertificate(ca, { subject: subject(), usage: 'client', psd2: PSD2, rsa: true });
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  test('a valid signature: rsa-sha256, rsa-sha512, ecdsa-sha256, SHA-512 digests, (request-target) and a GET without a body', async () => {
    assert.equal(verdict(signRequest(qseal)), 'accepted');
    assert.equal(verdict(signRequest(qseal, { algorithm: 'rsa-sha512', digestAlgorithm: 'SHA-512' })), 'accepted');
    assert.equal(
      verdict(
        signRequest(qseal, {
          headers: { 'psu-id': 'PSU-1234', 'tpp-redirect-uri': 'https://tpp.example/cb' },
          covered: ['(request-target)', 'digest', 'x-request-id', 'date', 'psu-id', 'tpp-redirect-uri'],
        }),
      ),
      'accepted',
    );
    assert.equal(verdict(signRequest(qseal, { method: 'GET', path: '/v1/consents/abc/status', body: '' })), 'accepted');
    const ecSeal = await issueCertificate(ca, { subject: subject(), usage: 'client', psd2: PSD2 });
    assert.equal(verdict(signRequest(ecSeal)), 'accepted');
    assert.equal(verdict(signRequest(ecSeal, { dsaEncoding: 'ieee-p1363' })), 'accepted', 'r||s as WebCrypto makes it');
    assert.match(verdict(signRequest(ecSeal, { algorithm: 'rsa-sha256' })), /does not fit the certificate's ec key/);
    assert.equal(verdict({ ...signRequest(qseal), headers: { ...signRequest(qseal).headers } }), 'accepted');
    const pem = signRequest(qseal, { headers: { 'tpp-signature-certificate': qseal.certPem.replaceAll('\n', '') } });
    assert.equal(verdict(pem), 'accepted', 'PEM on one line is read too');
  });

  test('a tampered body: the digest no longer matches', () => {
    const request = signRequest(qseal);
    assert.match(
      verdict({ ...request, body: Buffer.from('{"access":{"allPsd2":"allAccountsWithOwnerName"}}') }),
      /^signature_invalid: the Digest header does not match the body/,
    );
  });

  test('a digest recomputed by whoever tampered: the signature no longer verifies', () => {
    const request = signRequest(qseal);
    const body = Buffer.from('{"tampered":true}');
    const headers = { ...request.headers, digest: `SHA-256=${createHash('sha256').update(body).digest('base64')}` };
    assert.match(verdict({ ...request, body, headers }), /^signature_invalid: the signature does not verify/);
    const retargeted = signRequest(qseal, { covered: ['(request-target)', 'digest', 'x-request-id', 'date'] });
    assert.match(
      verdict({ ...retargeted, path: '/v1/payments/sepa-credit-transfers' }),
      /^signature_invalid: the signature does not verify/,
    );
  });

  test('signed by another key than the certificate names, or with the certificate of another TPP or another CA', async () => {
    const stranger = await issueCertificate(ca, { subject: subject(), usage: 'client', psd2: PSD2, rsa: true });
    assert.match(verdict(signRequest(qseal, { signingKey: stranger.keyPem })), /^signature_invalid: the signature does not verify/);

    const otherTpp = await issueCertificate(ca, { subject: subject('PSDDE-BAFIN-999999'), usage: 'client', psd2: PSD2, rsa: true });
    assert.match(verdict(signRequest(otherTpp)), /^certificate_invalid: TPP-Signature-Certificate belongs to PSDDE-BAFIN-999999/);

    const { ca: foreignCa } = await ensureDevPki(path.join(directory, 'foreign'));
    const foreign = await issueCertificate(foreignCa, { subject: subject(), usage: 'client', psd2: PSD2, rsa: true });
    assert.match(verdict(signRequest(foreign)), /^certificate_invalid: .*not issued by a trusted eIDAS CA/);

    const noPsd2 = await issueCertificate(ca, { subject: subject(), usage: 'client', rsa: true });
    assert.match(verdict(signRequest(noPsd2)), /^certificate_invalid: .*qcStatements/);

    const day = 86_400_000;
    const expired = await issueCertificate(ca, {
      subject: subject(),
      usage: 'client',
      psd2: PSD2,
      rsa: true,
      validity: { notBefore: new Date(Date.now() - 9 * day), notAfter: new Date(Date.now() - day) },
    });
    assert.match(verdict(signRequest(expired)), /^certificate_expired/);
  });

  test('the keyId must name the certificate: its serial number and its issuer', () => {
    assert.match(
      verdict(signRequest(qseal, { keyId: `SN=1234,CA=${new ParsedCertificate(qseal.certPem).issuer}` })),
      /^signature_invalid: the Signature keyId names serial 1234/,
    );
    const serial = new X509Certificate(qseal.certPem).serialNumber;
    assert.match(
      verdict(signRequest(qseal, { keyId: `SN=${serial},CA=CN=D-TRUST CA 2-1 2015,O=D-Trust GmbH,C=DE` })),
      /^signature_invalid: .*another CA/,
    );
    assert.match(verdict(signRequest(qseal, { keyId: `${serial}` })), /^signature_invalid: the Signature keyId is not SN=/);
    assert.equal(
      verdict(signRequest(qseal, { keyId: `SN=00${serial.toLowerCase()},CA=O=Assent%20development,CN=Assent%20Dev%20CA` })),
      'accepted',
      'leading zeros, lower case, another order and percent-encoding name the same certificate',
    );
  });

  test('a missing header, or one the signature must cover and does not', () => {
    for (const header of ['digest', 'signature', 'tpp-signature-certificate']) {
      const { [header]: _dropped, ...headers } = signRequest(qseal).headers as Record<string, string>;
      assert.match(verdict({ ...signRequest(qseal), headers }), /^signature_invalid: the .* header is required/, header);
    }
    assert.match(verdict(signRequest(qseal, { covered: ['digest', 'date'] })), /^signature_invalid: the signature must cover x-request-id/);
    assert.match(verdict(signRequest(qseal, { covered: ['x-request-id', 'date'] })), /^signature_invalid: the signature must cover digest/);
    assert.match(
      verdict(signRequest(qseal, { headers: { 'psu-id': 'PSU-1234' }, covered: ['digest', 'x-request-id', 'date'] })),
      /^signature_invalid: the signature must cover psu-id, which the request carries/,
    );
    assert.match(
      verdict(
        signRequest(qseal, { headers: { 'tpp-redirect-uri': 'https://tpp.example/cb' }, covered: ['digest', 'x-request-id', 'date'] }),
      ),
      /must cover tpp-redirect-uri/,
    );
    const request = signRequest(qseal, { covered: ['digest', 'x-request-id', 'date', 'psu-id'], headers: { 'psu-id': 'PSU-1' } });
    const { 'psu-id': _psu, ...withoutPsu } = request.headers as Record<string, string>;
    assert.match(verdict({ ...request, headers: withoutPsu }), /^signature_invalid: the signature covers psu-id, which the request lacks/);
  });

  test('algorithms, digests and the header syntax are allow-listed', () => {
    assert.match(verdict(signRequest(qseal, { algorithm: 'hmac-sha256' })), /^signature_invalid: algorithm hmac-sha256 is not one of/);
    assert.match(
      verdict(signRequest(qseal, { algorithm: 'ecdsa-sha256' })),
      /^signature_invalid: algorithm ecdsa-sha256 does not fit the certificate's rsa key/,
    );
    const md5 = signRequest(qseal, { headers: { digest: 'MD5=1B2M2Y8AsgTpgAmY7PhCfg==' } });
    assert.match(verdict(md5), /^signature_invalid: the Digest header has no SHA-256 or SHA-512 entry/);
    const request = signRequest(qseal);
    const headers = request.headers as Record<string, string>;
    assert.match(verdict({ ...request, headers: { ...headers, signature: `${headers.signature},keyId="again"` } }), /names keyid twice/);
    assert.match(verdict({ ...request, headers: { ...headers, signature: 'keyId=unquoted' } }), /not a list of name="value" parameters/);
    assert.match(
      verdict({ ...request, headers: { ...headers, 'tpp-signature-certificate': 'not base64!' } }),
      /^certificate_invalid: TPP-Signature-Certificate is not a base64 DER/,
    );
    assert.deepEqual(
      [
        ...parseSignatureHeader(
          'keyId="SN=1,CA=CN=A, O=B",algorithm="rsa-sha256", headers="digest x-request-id",signature="AA=="',
        ).entries(),
      ],
      [
        ['keyid', 'SN=1,CA=CN=A, O=B'],
        ['algorithm', 'rsa-sha256'],
        ['headers', 'digest x-request-id'],
        ['signature', 'AA=='],
      ],
    );
  });
});

import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureDevPki, issueCertificate, issueCrl, type PemPair } from '../../src/http/dev-pki.ts';
import { psd2QcStatements, readPsd2QcStatement } from '../../src/http/psd2-qc-statements.ts';
import { AssentError } from '../../src/protocol/assent-error.ts';
import { assertRole, type EidasTpp, identifyEidasCertificate } from '../../src/tpp/eidas-identity.ts';
import { type EidasTrustSnapshot, loadEidasTrust, readEidasTrust } from '../../src/tpp/eidas-trust.ts';

const ORGANIZATION_ID = 'PSDDE-BAFIN-123456';
const SUBJECT = `CN=Kontoblick,organizationIdentifier=${ORGANIZATION_ID},O=Kontoblick GmbH,C=DE`;
const PSD2 = { roles: ['PSP_AI', 'PSP_PI'] as const, ncaName: 'Bundesanstalt für Finanzdienstleistungsaufsicht', ncaId: 'DE-BAFIN' };
const psd2 = (roles: ('PSP_AI' | 'PSP_PI' | 'PSP_IC' | 'PSP_AS')[] = [...PSD2.roles]) => ({ ...PSD2, roles });

/** The AssentError code a call throws. */
function codeOf(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    assert.ok(error instanceof AssentError, `an AssentError, got ${String(error)}`);
    return `${error.code}: ${error.message}`;
  }
  assert.fail('expected a refusal');
}

const cert = (pair: PemPair) => new X509Certificate(pair.certPem);

describe('eIDAS certificates: who the TPP is, from a trusted QWAC', () => {
  let directory: string;
  let ca: PemPair;
  let otherCa: PemPair;
  let trust: EidasTrustSnapshot;
  let qwac: PemPair;

  before(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'assent-eidas-'));
    ({ ca } = await ensureDevPki(path.join(directory, 'ours')));
    ({ ca: otherCa } = await ensureDevPki(path.join(directory, 'theirs')));
    await writeFile(path.join(directory, 'cas.pem'), ca.certPem);
    trust = await readEidasTrust({ caFile: path.join(directory, 'cas.pem'), crlFile: undefined });
    qwac = await issueCertificate(ca, { subject: SUBJECT, usage: 'client', psd2: psd2() });
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  test('the PSD2 QC statement decodes to what was encoded', () => {
    assert.deepEqual(readPsd2QcStatement(psd2QcStatements(psd2(['PSP_IC', 'PSP_AI']))), { ...PSD2, roles: ['PSP_IC', 'PSP_AI'] });
  });

  test('a good QWAC: organizationIdentifier, name, country, roles, competent authority, fingerprint and end', () => {
    const tpp = identifyEidasCertificate(cert(qwac), trust);
    assert.deepEqual(tpp, {
      organizationId: ORGANIZATION_ID,
      name: 'Kontoblick GmbH',
      country: 'DE',
      roles: ['PSP_AI', 'PSP_PI'],
      ncaName: PSD2.ncaName,
      ncaId: 'DE-BAFIN',
      certificateSha256: createHash('sha256').update(cert(qwac).raw).digest('base64url'),
      notAfter: new Date(cert(qwac).validTo),
    } satisfies EidasTpp);
  });

  test('no PSD2 QC statement, or no qcStatements at all: certificate_invalid', async () => {
    const plain = await issueCertificate(ca, { subject: SUBJECT, usage: 'client' });
    assert.match(
      codeOf(() => identifyEidasCertificate(cert(plain), trust)),
      /^certificate_invalid: .*no qcStatements/,
    );
  });

  test('an organizationIdentifier not in the PSD2 format, or missing, or an NCA that does not match: certificate_invalid', async () => {
    for (const organizationId of ['VATDE-123456789', 'PSDDE-BAFIN-', 'PSDde-BAFIN-1', 'PSDDE-B-1', 'PSDDE-BAFIN-12 34']) {
      const wrong = await issueCertificate(ca, {
        subject: `CN=X,organizationIdentifier=${organizationId},O=X GmbH,C=DE`,
        usage: 'client',
        psd2: psd2(),
      });
      assert.match(
        codeOf(() => identifyEidasCertificate(cert(wrong), trust)),
        /^certificate_invalid: organizationIdentifier/,
        organizationId,
      );
    }
    const missing = await issueCertificate(ca, { subject: 'CN=X,O=X GmbH,C=DE', usage: 'client', psd2: psd2() });
    assert.match(
      codeOf(() => identifyEidasCertificate(cert(missing), trust)),
      /^certificate_invalid: .*exactly one organizationIdentifier/,
    );
    const noName = await issueCertificate(ca, {
      subject: `CN=X,organizationIdentifier=${ORGANIZATION_ID},C=DE`,
      usage: 'client',
      psd2: psd2(),
    });
    assert.match(
      codeOf(() => identifyEidasCertificate(cert(noName), trust)),
      /^certificate_invalid: .*organizationName/,
    );
    const otherNca = await issueCertificate(ca, { subject: SUBJECT, usage: 'client', psd2: { ...psd2(), ncaId: 'FR-ACPR' } });
    assert.match(
      codeOf(() => identifyEidasCertificate(cert(otherNca), trust)),
      /^certificate_invalid: .*FR-ACPR/,
    );
  });

  test('expired, or not yet valid: certificate_expired', async () => {
    const day = 86_400_000;
    const expired = await issueCertificate(ca, {
      subject: SUBJECT,
      usage: 'client',
      psd2: psd2(),
      validity: { notBefore: new Date(Date.now() - 30 * day), notAfter: new Date(Date.now() - day) },
    });
    assert.match(
      codeOf(() => identifyEidasCertificate(cert(expired), trust)),
      /^certificate_expired: .*expired at/,
    );
    const early = await issueCertificate(ca, {
      subject: SUBJECT,
      usage: 'client',
      psd2: psd2(),
      validity: { notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 30 * day) },
    });
    assert.match(
      codeOf(() => identifyEidasCertificate(cert(early), trust)),
      /^certificate_expired: .*not valid before/,
    );
  });

  test('from a CA outside the bundle: certificate_invalid, however well-formed', async () => {
    const foreign = await issueCertificate(otherCa, { subject: SUBJECT, usage: 'client', psd2: psd2() });
    assert.match(
      codeOf(() => identifyEidasCertificate(cert(foreign), trust)),
      /^certificate_invalid: .*not issued by a trusted eIDAS CA/,
    );
    assert.match(
      codeOf(() => identifyEidasCertificate(cert(ca), trust)),
      /^certificate_invalid: .*is a CA certificate/,
      'the CA itself',
    );
    const none = await readEidasTrust({ caFile: undefined, crlFile: undefined });
    assert.match(
      codeOf(() => identifyEidasCertificate(cert(qwac), none)),
      /^certificate_invalid/,
    );
  });

  test('revoked by a CRL of the CA: certificate_invalid; the CRL file is re-read when it changes', async () => {
    const crlFile = path.join(directory, 'crl.pem');
    const other = await issueCertificate(ca, { subject: SUBJECT, usage: 'client', psd2: psd2() });
    await writeFile(crlFile, await issueCrl(ca, [cert(other).serialNumber]));
    const live = await loadEidasTrust({ caFile: path.join(directory, 'cas.pem'), crlFile }, { recheckMs: 0 });
    assert.equal(identifyEidasCertificate(cert(qwac), await live.current()).organizationId, ORGANIZATION_ID, 'not on the CRL');

    await writeFile(crlFile, await issueCrl(ca, [cert(other).serialNumber, `00${cert(qwac).serialNumber.toLowerCase()}`]));
    const trustNow = await live.current();
    assert.match(
      codeOf(() => identifyEidasCertificate(cert(qwac), trustNow)),
      /^certificate_invalid: .*revoked/,
    );
  });

  test('a CRL file that turns bad keeps the last good CRLs; one no trusted CA signed is refused', async () => {
    const crlFile = path.join(directory, 'crl-bad.pem');
    await writeFile(crlFile, await issueCrl(ca, [cert(qwac).serialNumber]));
    const failures: unknown[] = [];
    const live = await loadEidasTrust(
      { caFile: path.join(directory, 'cas.pem'), crlFile },
      { recheckMs: 0, onReloadFailure: (error) => failures.push(error) },
    );
    await writeFile(crlFile, 'not a CRL');
    const trustAfter = await live.current();
    assert.match(
      codeOf(() => identifyEidasCertificate(cert(qwac), trustAfter)),
      /revoked/,
    );
    assert.equal(failures.length, 1);

    await writeFile(crlFile, await issueCrl(otherCa, []));
    await assert.rejects(readEidasTrust({ caFile: path.join(directory, 'cas.pem'), crlFile }), /not signed by a trusted CA/);
  });

  test('roles: what the certificate grants, role_invalid otherwise', async () => {
    const tpp = identifyEidasCertificate(cert(qwac), trust);
    assertRole(tpp, 'PSP_AI');
    assertRole(tpp, 'PSP_PI');
    assert.match(
      codeOf(() => assertRole(tpp, 'PSP_IC')),
      /^role_invalid: .*grants PSP_AI, PSP_PI, not PSP_IC/,
    );
    const cbpii = await issueCertificate(ca, { subject: SUBJECT, usage: 'client', psd2: psd2(['PSP_IC']) });
    assert.match(
      codeOf(() => assertRole(identifyEidasCertificate(cert(cbpii), trust), 'PSP_AI')),
      /^role_invalid/,
    );
  });
});

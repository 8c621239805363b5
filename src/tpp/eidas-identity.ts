import 'reflect-metadata';
import type { X509Certificate } from 'node:crypto';
import { X509Certificate as ParsedCertificate } from '@peculiar/x509';
import { certificateThumbprint } from '../http/client-certificate.ts';
import { MalformedQcStatements, type Psd2Role, QC_STATEMENTS_OID, readPsd2QcStatement } from '../http/psd2-qc-statements.ts';
import { AssentError } from '../protocol/assent-error.ts';
import { type EidasTrustSnapshot, normalSerial } from './eidas-trust.ts';

/**
 * A TPP known by its eIDAS certificate (ETSI TS 119 495), with no prior registration: the certificate
 * chains to a trusted CA, is within its validity, is not revoked, names the TPP's PSD2 authorisation
 * number in organizationIdentifier and carries the PSD2 QC statement with its roles. The Berlin Group
 * edge maps the errors to CERTIFICATE_INVALID, CERTIFICATE_EXPIRED, CERTIFICATE_BLOCKED and ROLE_INVALID.
 */

export type EidasRole = Psd2Role;

export interface EidasTpp {
  /** The PSD2 authorisation number, e.g. PSDDE-BAFIN-123456 (subject organizationIdentifier, 2.5.4.97). */
  organizationId: string;
  /** The subject's organizationName (O). */
  name: string;
  /** The competent authority's country, from the organizationIdentifier (PSD<country>-...). */
  country: string;
  /** The PSD2 roles the certificate grants, from its PSD2 QC statement. */
  roles: EidasRole[];
  ncaName: string;
  /** The competent authority, e.g. DE-BAFIN. */
  ncaId: string;
  /** SHA-256 of the certificate's DER, base64url (what `cnf.x5t#S256` of a bound token holds). */
  certificateSha256: string;
  notAfter: Date;
}

export class CertificateInvalid extends AssentError {
  override name = 'CertificateInvalid';
  constructor(message: string, options?: { cause?: unknown }) {
    super('certificate_invalid', message, { status: 401, ...options });
  }
}

export class CertificateExpired extends AssentError {
  override name = 'CertificateExpired';
  constructor(message: string) {
    super('certificate_expired', message, { status: 401 });
  }
}

export class RoleInvalid extends AssentError {
  override name = 'RoleInvalid';
  constructor(message: string) {
    super('role_invalid', message, { status: 401 });
  }
}

/**
 * ETSI TS 119 495 5.2.1: "PSD", the competent authority's ISO 3166 country, "-", its 2 to 8 letter
 * identifier, "-", the authorisation number. The number is held to letters, digits, dots, underscores and
 * hyphens: it becomes the TPP's client_id.
 */
const ORGANIZATION_ID = /^PSD([A-Z]{2})-([A-Z]{2,8})-([A-Za-z0-9][A-Za-z0-9._-]{0,63})$/;

const ORGANIZATION_IDENTIFIER_OID = '2.5.4.97';
const ORGANIZATION_NAME_OID = '2.5.4.10';

const describe = (certificate: X509Certificate) => `${certificate.subject.replaceAll('\n', ', ')} (serial ${certificate.serialNumber})`;

/** The trusted CA that issued the certificate and is itself valid now, if any. */
function issuingCa(certificate: X509Certificate, trust: EidasTrustSnapshot, now: number): X509Certificate | undefined {
  return trust.cas.find(
    (ca) =>
      now >= Date.parse(ca.validFrom) && now <= Date.parse(ca.validTo) && certificate.checkIssued(ca) && certificate.verify(ca.publicKey),
  );
}

function singleField(parsed: ParsedCertificate, oid: string, what: string, certificate: X509Certificate): string {
  const values = parsed.subjectName.getField(oid);
  if (values.length !== 1 || values[0]!.trim() === '') {
    throw new CertificateInvalid(`${describe(certificate)} must name exactly one ${what} in its subject`);
  }
  return values[0]!.trim();
}

/** The PSD2 QC statement, or CertificateInvalid when there is none or it does not decode. */
function psd2StatementOf(parsed: ParsedCertificate, certificate: X509Certificate) {
  const extension = parsed.getExtension(QC_STATEMENTS_OID);
  if (!extension) throw new CertificateInvalid(`${describe(certificate)} has no qcStatements: not a PSD2 eIDAS certificate`);
  try {
    const statement = readPsd2QcStatement(new Uint8Array(extension.value));
    if (!statement) throw new CertificateInvalid(`${describe(certificate)} has no PSD2 QC statement (0.4.0.19495.2)`);
    return statement;
  } catch (error) {
    if (error instanceof MalformedQcStatements)
      throw new CertificateInvalid(`${describe(certificate)}: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * Who the certificate says the TPP is, once it is trusted now: an end-entity certificate chained to a CA
 * of the snapshot (certificate_invalid), within its validity (certificate_expired, also before it starts), not revoked
 * by that CA's CRL (certificate_invalid), with a PSD2 organizationIdentifier, an organizationName and
 * the PSD2 QC statement whose NCAId matches the organizationIdentifier (certificate_invalid).
 */
export function identifyEidasCertificate(certificate: X509Certificate, trust: EidasTrustSnapshot, now = new Date()): EidasTpp {
  const at = now.getTime();
  if (certificate.ca) throw new CertificateInvalid(`${describe(certificate)} is a CA certificate, not a TPP's`);
  const ca = issuingCa(certificate, trust, at);
  if (!ca) throw new CertificateInvalid(`${describe(certificate)} is not issued by a trusted eIDAS CA`);
  if (at < Date.parse(certificate.validFrom))
    throw new CertificateExpired(`${describe(certificate)} is not valid before ${certificate.validFrom}`);
  if (at > Date.parse(certificate.validTo)) throw new CertificateExpired(`${describe(certificate)} expired at ${certificate.validTo}`);
  if (trust.revoked.get(ca.fingerprint256)?.has(normalSerial(certificate.serialNumber))) {
    throw new CertificateInvalid(`${describe(certificate)} is revoked by its CA`);
  }
  const parsed = new ParsedCertificate(certificate.raw);
  const organizationId = singleField(parsed, ORGANIZATION_IDENTIFIER_OID, 'organizationIdentifier', certificate);
  const format = ORGANIZATION_ID.exec(organizationId);
  if (!format) {
    throw new CertificateInvalid(
      `organizationIdentifier ${JSON.stringify(organizationId)} is not a PSD2 authorisation number (PSD<CC>-<NCA>-<id>)`,
    );
  }
  const name = singleField(parsed, ORGANIZATION_NAME_OID, 'organizationName (O)', certificate);
  const statement = psd2StatementOf(parsed, certificate);
  const country = format[1]!;
  const nca = format[2]!;
  if (statement.ncaId !== `${country}-${nca}`) {
    throw new CertificateInvalid(
      `the PSD2 QC statement names competent authority ${statement.ncaId}, the organizationIdentifier ${country}-${nca}`,
    );
  }
  return {
    organizationId,
    name,
    country,
    roles: statement.roles,
    ncaName: statement.ncaName,
    ncaId: statement.ncaId,
    certificateSha256: certificateThumbprint(certificate),
    notAfter: new Date(certificate.validTo),
  };
}

/** The certificate grants the role, or RoleInvalid (ROLE_INVALID): e.g. PSP_AI for an AIS consent, PSP_PI for a payment. */
export function assertRole(tpp: EidasTpp, role: EidasRole): void {
  if (!tpp.roles.includes(role)) {
    throw new RoleInvalid(`the certificate of ${tpp.organizationId} grants ${tpp.roles.join(', ') || 'no PSD2 role'}, not ${role}`);
  }
}

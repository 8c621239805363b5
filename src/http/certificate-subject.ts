import 'reflect-metadata';
import type { X509Certificate } from 'node:crypto';
import { X509Certificate as ParsedCertificate } from '@peculiar/x509';
import { attributeOid, comparableName, InvalidDistinguishedName, parseDistinguishedName, type RelativeName } from './distinguished-name.ts';

/**
 * The certificate's subject as parsed attributes (OID + value), read from the DER rather than from
 * Node's text rendering, which names some attributes by OID, others by name, and is ambiguous for
 * multi-valued RDNs and escaped characters.
 */
function subjectOf(certificate: X509Certificate): RelativeName[] {
  // toJSON names the types @peculiar/x509 knows (CN, O, ...) and gives the OID of the others.
  return new ParsedCertificate(certificate.raw).subjectName
    .toJSON()
    .map((rdn) => Object.entries(rdn).flatMap(([type, values]) => values.map((value) => ({ type: attributeOid(type), value }))));
}

/** Beyond this many certificates the memo starts over rather than grow without bound. */
const MEMO_LIMIT = 10_000;
/**
 * A certificate's comparable subject by its SHA-256 fingerprint. Parsing the DER (ASN.1) took a sixth of
 * the server's time under tls_client_auth load, and a TPP presents the same certificate on every call.
 * The subject is a pure function of the certificate's bytes; whether the certificate is trusted or
 * blocked is decided elsewhere, on every request.
 */
const comparableSubjects = new Map<string, string[]>();

function comparableSubjectOf(certificate: X509Certificate): string[] {
  const fingerprint = certificate.fingerprint256;
  let subject = comparableSubjects.get(fingerprint);
  if (!subject) {
    if (comparableSubjects.size >= MEMO_LIMIT) comparableSubjects.clear();
    subject = comparableName(subjectOf(certificate));
    comparableSubjects.set(fingerprint, subject);
  }
  return subject;
}

/** Registered DNs in comparable form, by their text (a client's DN is compared on every request it makes). */
const comparableRegisteredNames = new Map<string, string[] | undefined>();

function comparableRegisteredName(expected: string): string[] | undefined {
  if (comparableRegisteredNames.has(expected)) return comparableRegisteredNames.get(expected);
  let wanted: string[] | undefined;
  try {
    wanted = comparableName(parseDistinguishedName(expected));
  } catch (error) {
    // A registered DN that does not parse never matches (registration refuses such a DN up front).
    if (!(error instanceof InvalidDistinguishedName)) throw error;
  }
  if (comparableRegisteredNames.size >= MEMO_LIMIT) comparableRegisteredNames.clear();
  comparableRegisteredNames.set(expected, wanted);
  return wanted;
}

function subjectDnMatches(certificate: X509Certificate, expected: string) {
  const wanted = comparableRegisteredName(expected);
  if (!wanted) return false;
  const actual = comparableSubjectOf(certificate);
  return wanted.length === actual.length && wanted.every((name, index) => name === actual[index]);
}

const SAN_PREFIX: Record<string, string> = {
  tls_client_auth_san_dns: 'DNS:',
  tls_client_auth_san_uri: 'URI:',
  tls_client_auth_san_ip: 'IP Address:',
  tls_client_auth_san_email: 'email:',
};

/** RFC 8705 2.1.2: does the presented certificate carry the subject the client registered? */
export function certificateSubjectMatches(certificate: X509Certificate, property: string, expected: string): boolean {
  if (property === 'tls_client_auth_subject_dn') return subjectDnMatches(certificate, expected);
  const prefix = SAN_PREFIX[property];
  if (!prefix) return false;
  const entries = (certificate.subjectAltName ?? '').split(', ');
  return entries.includes(`${prefix}${expected}`);
}

/**
 * Whether the DN (RFC 4514, e.g. the `CA=` of a Berlin Group Signature keyId) names the certificate's
 * issuer, compared as parsed attributes (any order, case and spacing); a DN that does not parse never does.
 */
export function certificateIssuerIs(certificate: X509Certificate, dn: string): boolean {
  let wanted: string[];
  try {
    wanted = comparableName(parseDistinguishedName(dn));
  } catch (error) {
    if (!(error instanceof InvalidDistinguishedName)) throw error;
    return false;
  }
  const issuer = new ParsedCertificate(certificate.raw).issuerName
    .toJSON()
    .map((rdn) => Object.entries(rdn).flatMap(([type, values]) => values.map((value) => ({ type: attributeOid(type), value }))));
  const actual = comparableName(issuer);
  return wanted.length === actual.length && wanted.every((name, index) => name === actual[index]);
}

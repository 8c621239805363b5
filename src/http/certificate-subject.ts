import 'reflect-metadata';
import type { X509Certificate } from 'node:crypto';
import { Name } from '@peculiar/x509';

/** RDNs as a sorted list of `type=value`, so that order and letter case of the DN do not matter. */
function relativeNames(dn: string): string[] {
  return new Name(dn)
    .toJSON()
    .flatMap((rdn) => Object.entries(rdn).flatMap(([type, values]) => values.map((value) => `${type.toLowerCase()}=${value.toLowerCase()}`)))
    .toSorted();
}

function subjectDnMatches(certificate: X509Certificate, expected: string) {
  let wanted: string[];
  try {
    wanted = relativeNames(expected);
  } catch {
    // An unparseable registered DN never matches.
    return false;
  }
  const actual = certificate.subject.split('\n').map((line) => {
    const at = line.indexOf('=');
    return `${line.slice(0, at).toLowerCase()}=${line.slice(at + 1).toLowerCase()}`;
  }).toSorted();
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

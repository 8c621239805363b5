/**
 * RFC 4514 distinguished names, parsed into attribute OIDs and values, so that a DN written with names
 * (`organizationIdentifier=PSDGB-FCA-123456`), short names (`O=`), OIDs (`2.5.4.97=`, `OID.2.5.4.97=`)
 * or any letter case compares equal to the certificate that carries it.
 */

/** Attribute types by every name they are written with (compared case-insensitively). */
const ATTRIBUTE_OIDS: Record<string, string> = {
  cn: '2.5.4.3',
  commonname: '2.5.4.3',
  sn: '2.5.4.4',
  surname: '2.5.4.4',
  serialnumber: '2.5.4.5',
  c: '2.5.4.6',
  countryname: '2.5.4.6',
  l: '2.5.4.7',
  localityname: '2.5.4.7',
  st: '2.5.4.8',
  s: '2.5.4.8',
  stateorprovincename: '2.5.4.8',
  street: '2.5.4.9',
  streetaddress: '2.5.4.9',
  o: '2.5.4.10',
  organizationname: '2.5.4.10',
  ou: '2.5.4.11',
  organizationalunitname: '2.5.4.11',
  title: '2.5.4.12',
  t: '2.5.4.12',
  businesscategory: '2.5.4.15',
  postalcode: '2.5.4.17',
  gn: '2.5.4.42',
  g: '2.5.4.42',
  givenname: '2.5.4.42',
  i: '2.5.4.43',
  initials: '2.5.4.43',
  // ETSI EN 319 412-1: the PSD2 authorisation number of a QWAC's subject (e.g. PSDGB-FCA-123456).
  organizationidentifier: '2.5.4.97',
  dc: '0.9.2342.19200300.100.1.25',
  domaincomponent: '0.9.2342.19200300.100.1.25',
  uid: '0.9.2342.19200300.100.1.1',
  userid: '0.9.2342.19200300.100.1.1',
  e: '1.2.840.113549.1.9.1',
  emailaddress: '1.2.840.113549.1.9.1',
  jurisdictionc: '1.3.6.1.4.1.311.60.2.1.3',
  jurisdictioncountryname: '1.3.6.1.4.1.311.60.2.1.3',
  jurisdictionst: '1.3.6.1.4.1.311.60.2.1.2',
  jurisdictionstateorprovincename: '1.3.6.1.4.1.311.60.2.1.2',
  jurisdictionl: '1.3.6.1.4.1.311.60.2.1.1',
  jurisdictionlocalityname: '1.3.6.1.4.1.311.60.2.1.1',
};

export interface Attribute {
  /** Dotted OID. */
  type: string;
  value: string;
}

/** One RDN: usually one attribute, several when joined with `+`. */
export type RelativeName = Attribute[];

export class InvalidDistinguishedName extends Error {
  override name = 'InvalidDistinguishedName';
}

/** The OID of an attribute type as written: a known name in any case, `1.2.3` or `OID.1.2.3`. */
export function attributeOid(written: string): string {
  const type = written.trim();
  const numeric = /^(?:oid\.)?(\d+(?:\.\d+)+)$/i.exec(type);
  if (numeric) return numeric[1]!;
  const oid = ATTRIBUTE_OIDS[type.toLowerCase()];
  if (!oid) throw new InvalidDistinguishedName(`unknown attribute type '${type}'`);
  return oid;
}

/** The value part of `type=value` from `start`; returns the value and where it ended. */
function readValue(dn: string, start: number): { value: string; end: number } {
  let index = start;
  while (dn[index] === ' ') index += 1;
  if (dn[index] === '#') {
    const hex = /^#[0-9a-fA-F]*/.exec(dn.slice(index))![0];
    return { value: hex.toLowerCase(), end: index + hex.length };
  }
  const quoted = dn[index] === '"';
  if (quoted) index += 1;
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  let trailingSpaces = 0;
  for (; index < dn.length; index += 1) {
    const char = dn[index]!;
    if (quoted ? char === '"' : char === ',' || char === '+' || char === ';') break;
    if (char === '\\') {
      const pair = dn.slice(index + 1, index + 3);
      if (/^[0-9a-fA-F]{2}$/.test(pair)) {
        bytes.push(Number.parseInt(pair, 16));
        index += 2;
      } else if (index + 1 < dn.length) {
        bytes.push(...encoder.encode(dn[index + 1]!));
        index += 1;
      } else {
        throw new InvalidDistinguishedName('a DN ends in a lone backslash');
      }
      trailingSpaces = 0;
      continue;
    }
    bytes.push(...encoder.encode(char));
    trailingSpaces = char === ' ' ? trailingSpaces + 1 : 0;
  }
  if (quoted) {
    if (dn[index] !== '"') throw new InvalidDistinguishedName('an unterminated quoted value');
    index += 1;
    while (dn[index] === ' ') index += 1;
    trailingSpaces = 0;
  }
  const text = new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes.slice(0, bytes.length - trailingSpaces)));
  return { value: text, end: index };
}

/** Parses an RFC 4514 DN (also accepting `;` between RDNs, as RFC 2253 parsers do). Throws InvalidDistinguishedName. */
export function parseDistinguishedName(dn: string): RelativeName[] {
  const names: RelativeName[] = [];
  let current: RelativeName = [];
  let index = 0;
  if (dn.trim() === '') return names;
  while (index <= dn.length) {
    const equals = dn.indexOf('=', index);
    if (equals < 0) throw new InvalidDistinguishedName(`no '=' after position ${index}`);
    const type = attributeOid(dn.slice(index, equals));
    const { value, end } = readValue(dn, equals + 1);
    current.push({ type, value });
    const separator = dn[end];
    if (separator === undefined) {
      names.push(current);
      break;
    }
    if (separator !== '+') {
      names.push(current);
      current = [];
    }
    index = end + 1;
  }
  return names;
}

/**
 * A comparable form of a name: each attribute as `oid=value` with the value case-folded and inner white
 * space collapsed (RFC 4518 caseIgnoreMatch, which the string attributes of a certificate subject use),
 * sorted, so the order of RDNs does not matter either.
 */
export function comparableName(names: RelativeName[]): string[] {
  return names
    .flat()
    .map(({ type, value }) => `${type}=${value.trim().replaceAll(/\s+/g, ' ').toLowerCase()}`)
    .toSorted();
}

/**
 * The qcStatements extension (RFC 3739, 1.3.6.1.5.5.7.1.3) of a PSD2 QWAC as ETSI TS 119 495 defines
 * it, for the dev CA's QWAC-shaped TPP certificates: QcCompliance, QcType web, and the PSD2 statement
 * with the TPP's roles and its national competent authority. Encoded by hand (a few DER shapes), since
 * @peculiar/x509 has no type for it.
 */

export const QC_STATEMENTS_OID = '1.3.6.1.5.5.7.1.3';

/** ETSI TS 119 495 roles of a payment service provider. */
export const PSD2_ROLES = {
  PSP_AS: '0.4.0.19495.1.1',
  PSP_PI: '0.4.0.19495.1.2',
  PSP_AI: '0.4.0.19495.1.3',
  PSP_IC: '0.4.0.19495.1.4',
} as const;
export type Psd2Role = keyof typeof PSD2_ROLES;

export interface Psd2QcStatement {
  roles: Psd2Role[];
  /** The competent authority, e.g. "Financial Conduct Authority" / "GB-FCA". */
  ncaName: string;
  ncaId: string;
}

function tlv(tag: number, content: Uint8Array): Uint8Array {
  const length = content.length;
  const header = length < 0x80 ? [tag, length] : length < 0x100 ? [tag, 0x81, length] : [tag, 0x82, length >> 8, length & 0xff];
  return new Uint8Array([...header, ...content]);
}

const sequence = (...items: Uint8Array[]) => tlv(0x30, new Uint8Array(items.flatMap((item) => [...item])));
const utf8 = (text: string) => tlv(0x0c, new TextEncoder().encode(text));

function oid(dotted: string): Uint8Array {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let value = arc >>> 7; value > 0; value >>>= 7) base128.unshift((value & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return tlv(0x06, new Uint8Array(bytes));
}

/** DER of QCStatements for a PSD2 QWAC (the extension's value). */
export function psd2QcStatements(statement: Psd2QcStatement): Uint8Array {
  const qcCompliance = sequence(oid('0.4.0.1862.1.1'));
  const qcTypeWeb = sequence(oid('0.4.0.1862.1.6'), sequence(oid('0.4.0.1862.1.6.3')));
  const roles = sequence(...statement.roles.map((role) => sequence(oid(PSD2_ROLES[role]), utf8(role))));
  const psd2 = sequence(oid('0.4.0.19495.2'), sequence(roles, utf8(statement.ncaName), utf8(statement.ncaId)));
  return sequence(qcCompliance, qcTypeWeb, psd2);
}

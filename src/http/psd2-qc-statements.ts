import * as asn1js from 'asn1js';

/**
 * The qcStatements extension (RFC 3739, 1.3.6.1.5.5.7.1.3) of a PSD2 QWAC as ETSI TS 119 495 defines
 * it: encoded for the dev CA's QWAC-shaped TPP certificates (QcCompliance, QcType web, and the PSD2
 * statement with the TPP's roles and its national competent authority), by hand since @peculiar/x509
 * has no type for it; decoded from any presented certificate with asn1js (`readPsd2QcStatement`).
 */

import type { Psd2Role } from '../protocol/route-row.ts';

export const QC_STATEMENTS_OID = '1.3.6.1.5.5.7.1.3';

/** ETSI TS 119 495 5.1: the PSD2 QCStatement's statementId. */
export const PSD2_QC_STATEMENT_OID = '0.4.0.19495.2';

export type { Psd2Role };

/** ETSI TS 119 495: the OID of each role of a payment service provider. */
export const PSD2_ROLES: Record<Psd2Role, string> = {
  PSP_AS: '0.4.0.19495.1.1',
  PSP_PI: '0.4.0.19495.1.2',
  PSP_AI: '0.4.0.19495.1.3',
  PSP_IC: '0.4.0.19495.1.4',
};

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
  const psd2 = sequence(oid(PSD2_QC_STATEMENT_OID), sequence(roles, utf8(statement.ncaName), utf8(statement.ncaId)));
  return sequence(qcCompliance, qcTypeWeb, psd2);
}

/** Why a qcStatements extension could not be read: it is not the DER RFC 3739 and ETSI TS 119 495 define. */
export class MalformedQcStatements extends Error {
  override name = 'MalformedQcStatements';
}

const ROLE_OF_OID = new Map<string, Psd2Role>(Object.entries(PSD2_ROLES).map(([role, roleOid]) => [roleOid, role as Psd2Role]));

/** The children of a SEQUENCE, or a MalformedQcStatements naming what was expected. */
function itemsOf(block: unknown, what: string): unknown[] {
  if (!(block instanceof asn1js.Sequence)) throw new MalformedQcStatements(`${what} is not a SEQUENCE`);
  return block.valueBlock.value;
}

function oidOf(block: unknown, what: string): string {
  if (!(block instanceof asn1js.ObjectIdentifier)) throw new MalformedQcStatements(`${what} is not an OBJECT IDENTIFIER`);
  return block.valueBlock.toString();
}

/** NCAName, NCAId and RoleOfPspName are UTF8String (ETSI TS 119 495 5.1); nothing else is accepted. */
function utf8Of(block: unknown, what: string): string {
  if (!(block instanceof asn1js.Utf8String)) throw new MalformedQcStatements(`${what} is not a UTF8String`);
  return block.valueBlock.value;
}

/**
 * The PSD2 statement of a qcStatements extension's value (its DER), or undefined when the certificate
 * carries qcStatements without one. ETSI TS 119 495 5.1:
 *   PSD2QcType ::= SEQUENCE { rolesOfPSP RolesOfPSP, nCAName NCAName, nCAId NCAId }
 *   RolesOfPSP ::= SEQUENCE OF RoleOfPSP
 *   RoleOfPSP ::= SEQUENCE { roleOfPspOid RoleOfPspOid, roleOfPspName RoleOfPspName }
 * A role is known by its OID; an OID outside the four PSD2 roles is left out (another regime's role).
 */
export function readPsd2QcStatement(der: Uint8Array): Psd2QcStatement | undefined {
  const decoded = asn1js.fromBER(der);
  if (decoded.offset === -1) throw new MalformedQcStatements(`not DER: ${decoded.result.error}`);
  if (decoded.offset !== der.byteLength) throw new MalformedQcStatements('bytes after the qcStatements');
  const statements = itemsOf(decoded.result, 'qcStatements').map((statement) => itemsOf(statement, 'a QCStatement'));
  const psd2 = statements.filter((statement) => oidOf(statement[0], 'a statementId') === PSD2_QC_STATEMENT_OID);
  if (psd2.length === 0) return undefined;
  if (psd2.length > 1) throw new MalformedQcStatements('more than one PSD2 statement');
  const fields = itemsOf(psd2[0]![1], 'PSD2QcType');
  if (fields.length !== 3) throw new MalformedQcStatements('PSD2QcType has not three fields');
  const roles = itemsOf(fields[0], 'RolesOfPSP').map((role) => {
    const [roleOid, roleName, ...rest] = itemsOf(role, 'RoleOfPSP');
    if (rest.length > 0) throw new MalformedQcStatements('RoleOfPSP has more than two fields');
    utf8Of(roleName, 'roleOfPspName');
    return ROLE_OF_OID.get(oidOf(roleOid, 'roleOfPspOid'));
  });
  return {
    roles: [...new Set(roles.filter((role) => role !== undefined))],
    ncaName: utf8Of(fields[1], 'NCAName'),
    ncaId: utf8Of(fields[2], 'NCAId'),
  };
}

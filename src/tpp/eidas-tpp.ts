import type { Db } from '../db/connect.ts';
import type { TppRole, TppRow } from '../db/schema.ts';
import { appendAuditEvent } from '../audit/audit-trail.ts';
import { AssentError } from '../protocol/assent-error.ts';
import type { EidasRole, EidasTpp } from './eidas-identity.ts';
import { saveEidasClient } from './eidas-client.ts';
import { findTpp, findTppWithClient, insertTppIfAbsent } from './tpp-repository.ts';

/**
 * First contact of a TPP known by its eIDAS certificate: its row in `tpp` is made the first time it calls,
 * keyed by its authorisation number (client_id = org_id = organizationIdentifier, directory `eidas`).
 * The certificate presented on each request decides the TPP's roles; the row records who it is, that it
 * came, and whether the bank suspended it (`tpp:suspend <organizationIdentifier>`). Its oidc-provider client
 * (tpp/eidas-client.ts) is made with the row, for the OAuth2 SCA approach.
 */

/** The `directory` of TPPs known by their certificate: the eIDAS trust list, not a software statement issuer. */
export const EIDAS_DIRECTORY = 'eidas';

/** ETSI TS 119 495 roles as the TPP roles the rest of Assent speaks; PSP_AS (a bank) has none. */
const TPP_ROLE_OF: Record<EidasRole, TppRole | undefined> = { PSP_AI: 'AISP', PSP_PI: 'PISP', PSP_IC: 'CBPII', PSP_AS: undefined };

export class CertificateBlocked extends AssentError {
  override name = 'CertificateBlocked';
  constructor(message: string) {
    super('certificate_blocked', message, { status: 401 });
  }
}

export interface EidasTppRecord {
  clientId: string;
  /** True only for the call that made the row. */
  created: boolean;
}

function refuseUnlessActive(row: TppRow): void {
  if (row.identified_by !== 'eidas') {
    // A registered client's id is random: meeting one here means the bank gave a client this id by hand.
    throw new CertificateBlocked(`${row.client_id} is a registered client, not a TPP known by its eIDAS certificate`);
  }
  if (row.status !== 'active') {
    throw new CertificateBlocked(`TPP ${row.client_id} is ${row.status}${row.status_reason ? `: ${row.status_reason}` : ''}`);
  }
}

/**
 * The client id of a TPP known by its certificate, for a request that only reads (GETs never write): its
 * row is checked (a suspended TPP is refused) but never made. A TPP never seen before has nothing to read
 * yet, and its first request that writes makes its row.
 */
export async function knownEidasTpp(db: Db, tpp: EidasTpp): Promise<string> {
  const known = await findTpp(db, tpp.organizationId);
  if (known) refuseUnlessActive(known);
  return tpp.organizationId;
}

/**
 * The TPP's row and its client, made on its first contact in one transaction with its
 * `tpp.first_contact` audit event; however many first contacts race, one row and one event. A suspended
 * or deleted TPP is refused (certificate_blocked, Berlin Group CERTIFICATE_BLOCKED). A known TPP costs
 * one read, its row and whether its client exists together: a TPP first met before eIDAS clients existed
 * has its row and no client, and gets one now.
 */
export async function ensureEidasTpp(db: Db, tpp: EidasTpp): Promise<EidasTppRecord> {
  const known = await findTppWithClient(db, tpp.organizationId);
  if (known) {
    refuseUnlessActive(known);
    if (!known.has_client) await saveEidasClient(db, tpp);
    return { clientId: known.client_id, created: false };
  }
  const roles = tpp.roles.flatMap((role) => TPP_ROLE_OF[role] ?? []);
  const created = await db.transaction().execute(async (trx) => {
    const row = await insertTppIfAbsent(trx, {
      client_id: tpp.organizationId,
      software_id: tpp.organizationId,
      org_id: tpp.organizationId,
      org_name: tpp.name,
      client_name: tpp.name,
      logo_uri: null,
      roles: JSON.stringify(roles),
      directory: EIDAS_DIRECTORY,
      identified_by: 'eidas',
      software_statement: null,
      software_statement_claims: null,
      status: 'active',
      status_reason: null,
    });
    if (row) {
      await saveEidasClient(trx, tpp);
      await appendAuditEvent(trx, {
        subjectType: 'tpp',
        subjectId: row.client_id,
        event: 'tpp.first_contact',
        actor: { kind: 'tpp', id: row.client_id },
        after: { name: tpp.name, roles, identifiedBy: 'eidas', clientKind: 'eidas_tpp' },
        details: { ncaId: tpp.ncaId, ncaName: tpp.ncaName, certificateSha256: tpp.certificateSha256, eidasRoles: tpp.roles },
      });
    }
    return row !== undefined;
  });
  if (!created) {
    // Another first contact committed the row meanwhile; an operator may even have suspended it since.
    const row = await findTpp(db, tpp.organizationId);
    if (!row) throw new CertificateBlocked(`TPP ${tpp.organizationId} was removed while it first called`);
    refuseUnlessActive(row);
  }
  return { clientId: tpp.organizationId, created };
}

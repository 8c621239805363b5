import type { Transaction } from 'kysely';
import { appendAuditEvent } from '../audit/audit-trail.ts';
import type { Db } from '../db/connect.ts';
import { clientKindOf } from '../protocol/client-kind.ts';
import type { AuditActorKind, Database, TppRole, TppRow, TppStatus } from '../db/schema.ts';
import { AssentError } from '../protocol/assent-error.ts';
import { destroyClientArtefacts } from '../store/artefacts.ts';
import type { SoftwareStatement } from './software-statement.ts';
import {
  type ClientDisplayRow,
  type ClientStandingRow,
  deleteClientRateLimit,
  findClientDisplay,
  findClientRateLimit,
  findTpp,
  hasTppWithStatus,
  listClientsOfSameOrganisation,
  insertTpp,
  listTppRows,
  lockTpp,
  readClientStandings,
  updateTpp,
  upsertClientRateLimit,
} from './tpp-repository.ts';
import { createTurnBatch } from '../store/turn-batch.ts';

export type { ClientDisplayRow, ClientStandingRow } from './tpp-repository.ts';
export { clientDisplayQuery, clientStandingOfCompanion, clientStandingWithRow } from './tpp-repository.ts';

/** What other modules (consent pages, dashboard) may know about a TPP. */
export interface TppProfile {
  clientId: string;
  name: string;
  logoUri: string | null;
  roles: TppRole[];
  status: TppStatus;
  statusReason: string | null;
  softwareId: string;
  orgId: string;
  orgName: string | null;
  directory: string;
  registeredAt: Date;
}

export interface Actor {
  kind: AuditActorKind;
  id: string | null;
}

export class TppNotFound extends AssentError {
  override name = 'TppNotFound';
  constructor(clientId: string) {
    super('tpp_not_found', `no TPP with client id ${clientId}`, { status: 404 });
  }
}

export class TppStateError extends AssentError {
  override name = 'TppStateError';
  constructor(message: string) {
    super('tpp_state_invalid', message, { status: 409 });
  }
}

function toProfile(row: TppRow): TppProfile {
  return {
    clientId: row.client_id,
    name: row.client_name,
    logoUri: row.logo_uri,
    roles: row.roles,
    status: row.status,
    statusReason: row.status_reason,
    softwareId: row.software_id,
    orgId: row.org_id,
    orgName: row.org_name,
    directory: row.directory,
    registeredAt: row.created_at,
  };
}

/** The audit snapshot of a profile: plain JSON, no dates that would change on every read. */
function snapshot(profile: TppProfile) {
  const { registeredAt: _registeredAt, ...rest } = profile;
  return rest;
}

export async function getTppProfile(db: Db, clientId: string): Promise<TppProfile | undefined> {
  const row = await findTpp(db, clientId);
  return row && toProfile(row);
}

/**
 * Name and logo to show a customer for any client: a TPP's come from its software statement; clients
 * made without one (the demo TPP, operator-made clients) show their own client_name and logo_uri.
 */
export async function getClientDisplay(db: Db, clientId: string): Promise<ClientDisplay | undefined> {
  return clientDisplayOfRow(await findClientDisplay(db, clientId), clientId);
}

/** `bankOwn`: one of the bank's own clients (the consent dashboard), which the pages do not name as a TPP. */
export type ClientDisplay = { name: string; logoUri: string | null; bankOwn: boolean };

/** The display of a client from the row of `clientDisplayQuery` (read alone or alongside another statement). */
export function clientDisplayOfRow(row: ClientDisplayRow, clientId: string): ClientDisplay | undefined {
  if (row.tpp_name !== null) return { name: row.tpp_name, logoUri: row.tpp_logo, bankOwn: false };
  if (!row.client_registered) return undefined;
  return {
    name: typeof row.client_name === 'string' ? row.client_name : clientId,
    logoUri: typeof row.client_logo === 'string' ? row.client_logo : null,
    bankOwn: clientKindOf({ client_kind: row.client_kind }) === 'first_party',
  };
}

/** The TPP behind a client, as a customer knows it: one organisation, any number of registered clients. */
export interface ClientOrganisation {
  /** Stable and unique per TPP: two TPPs never share it, whatever their names. */
  key: string;
  /** The organisation's name as its software statement gives it, when it gives one. */
  name: string | null;
  /** Every client of this TPP, the given one included. */
  clientIds: string[];
}

/**
 * A TPP is the organisation its software statements name, not a client and not a name: one
 * organisation registers a client per piece of software (each statement has its own software_id but
 * the same org_id), and two organisations may well choose the same name. The organisation is keyed by
 * its directory and org_id together, since an org_id is only unique within the directory that issued
 * it. A client registered without a statement (the demo TPP, an operator's client) is its own TPP.
 */
export async function organisationOfClient(db: Db, clientId: string): Promise<ClientOrganisation> {
  const rows = await listClientsOfSameOrganisation(db, clientId);
  const own = rows.find((row) => row.client_id === clientId);
  if (!own) return { key: JSON.stringify(['client', clientId]), name: null, clientIds: [clientId] };
  return {
    key: JSON.stringify(['organisation', own.directory, own.org_id]),
    name: own.org_name,
    clientIds: rows.map((row) => row.client_id),
  };
}

export async function listTpps(db: Db): Promise<TppProfile[]> {
  return (await listTppRows(db)).map(toProfile);
}

export async function getSoftwareStatement(db: Db, clientId: string): Promise<SoftwareStatement | undefined> {
  const row = await findTpp(db, clientId);
  if (!row || row.software_statement === null) return undefined;
  return { jwt: row.software_statement, claims: row.software_statement_claims as SoftwareStatement['claims'] };
}

/** A client nothing is recorded about: usable, nothing blocked, no throttle. */
const UNMANAGED: ClientStandingRow = { usable: true, blockedKids: [], throttle: null };

/**
 * Whether a client may act now: clients without a TPP record (seeded, operator-made) are usable, a
 * TPP's client only while active; with its blocked kids and operator throttle (one statement).
 */
export async function clientStanding(db: Db, clientId: string): Promise<ClientStandingRow> {
  return (await readClientStandings(db, [clientId])).get(clientId) ?? UNMANAGED;
}

/**
 * clientStanding for many requests at once: the standings asked in one event-loop round share one
 * statement (store/turn-batch.ts), each still read after its request began.
 */
export function batchedClientStanding(db: Db): (clientId: string) => Promise<ClientStandingRow> {
  return createTurnBatch((clientIds) => readClientStandings(db, clientIds), UNMANAGED);
}

export function isOrganisationSuspended(db: Db, orgId: string): Promise<boolean> {
  return hasTppWithStatus(db, { orgId }, 'suspended');
}

function profileFields(statement: SoftwareStatement) {
  const { claims } = statement;
  return {
    client_name: claims.software_client_name,
    logo_uri: claims.software_logo_uri ?? null,
    roles: JSON.stringify(claims.software_roles),
    org_name: claims.org_name ?? null,
    directory: claims.iss,
    software_statement: statement.jwt,
    software_statement_claims: JSON.stringify(claims),
  };
}

/** Called inside the registration's transaction, after the provider stored the client. */
export async function recordRegistration(
  trx: Transaction<Database>,
  input: { clientId: string; statement: SoftwareStatement; client: Record<string, unknown> },
): Promise<TppProfile> {
  const { claims } = input.statement;
  await insertTpp(trx, {
    client_id: input.clientId,
    software_id: claims.software_id,
    org_id: claims.org_id,
    status: 'active',
    status_reason: null,
    ...profileFields(input.statement),
  });
  const profile = toProfile((await findTpp(trx, input.clientId))!);
  await appendAuditEvent(trx, {
    subjectType: 'tpp',
    subjectId: input.clientId,
    event: 'tpp.registered',
    actor: { kind: 'tpp', id: input.clientId },
    after: { profile: snapshot(profile), client: input.client },
    details: { directory: claims.iss, software_statement_jti: claims.jti },
  });
  return profile;
}

export async function recordUpdate(
  trx: Transaction<Database>,
  input: { clientId: string; statement: SoftwareStatement; before: Record<string, unknown>; client: Record<string, unknown> },
): Promise<void> {
  const previous = await lockTpp(trx, input.clientId);
  if (!previous) throw new TppNotFound(input.clientId);
  await updateTpp(trx, input.clientId, profileFields(input.statement));
  const current = toProfile((await findTpp(trx, input.clientId))!);
  await appendAuditEvent(trx, {
    subjectType: 'tpp',
    subjectId: input.clientId,
    event: 'tpp.updated',
    actor: { kind: 'tpp', id: input.clientId },
    before: { profile: snapshot(toProfile(previous)), client: input.before },
    after: { profile: snapshot(current), client: input.client },
  });
}

/** The client is gone (RFC 7592 delete): its tokens go too; the TPP record stays for history. */
export async function recordDeletion(
  trx: Transaction<Database>,
  input: { clientId: string; before: Record<string, unknown> },
): Promise<void> {
  const previous = await lockTpp(trx, input.clientId);
  if (!previous) return;
  await updateTpp(trx, input.clientId, { status: 'deleted', status_reason: 'deleted by the TPP (RFC 7592)' });
  const revoked = await destroyClientArtefacts(trx, input.clientId);
  await appendAuditEvent(trx, {
    subjectType: 'tpp',
    subjectId: input.clientId,
    event: 'tpp.deleted',
    actor: { kind: 'tpp', id: input.clientId },
    before: { profile: snapshot(toProfile(previous)), client: input.before },
    after: { status: 'deleted' },
    details: { artefacts_revoked: revoked },
  });
}

async function changeStatus(
  db: Db,
  clientId: string,
  change: { from: TppStatus; to: TppStatus; event: string; reason: string | null; actor: Actor },
): Promise<TppProfile> {
  return db.transaction().execute(async (trx) => {
    const row = await lockTpp(trx, clientId);
    if (!row) throw new TppNotFound(clientId);
    if (row.status !== change.from) throw new TppStateError(`TPP ${clientId} is ${row.status}, not ${change.from}`);
    await updateTpp(trx, clientId, { status: change.to, status_reason: change.reason });
    // Suspension kills every grant and token at once; reinstatement brings none back.
    const revoked = change.to === 'suspended' ? await destroyClientArtefacts(trx, clientId) : 0;
    await appendAuditEvent(trx, {
      subjectType: 'tpp',
      subjectId: clientId,
      event: change.event,
      actor: change.actor,
      before: { status: row.status, status_reason: row.status_reason },
      after: { status: change.to, status_reason: change.reason },
      details: change.to === 'suspended' ? { artefacts_revoked: revoked } : {},
    });
    return toProfile((await findTpp(trx, clientId))!);
  });
}

/** Its grants and tokens die now; its token, PAR and registration calls fail until reinstatement. */
export function suspendTpp(db: Db, clientId: string, input: { reason: string; actor: Actor }): Promise<TppProfile> {
  return changeStatus(db, clientId, { from: 'active', to: 'suspended', event: 'tpp.suspended', reason: input.reason, actor: input.actor });
}

export function reinstateTpp(db: Db, clientId: string, input: { reason?: string; actor: Actor }): Promise<TppProfile> {
  return changeStatus(db, clientId, {
    from: 'suspended',
    to: 'active',
    event: 'tpp.reinstated',
    reason: input.reason ?? null,
    actor: input.actor,
  });
}

/** The operator's throttle on a client as stored (`limit`, `window_seconds`), for an audit's before and after. */
export interface StoredThrottle {
  limit: number;
  window_seconds: number;
}

/** Sets the client's throttle (`tpp:throttle`) in the operator's transaction; returns the one it replaced. */
export async function setClientThrottle(
  trx: Transaction<Database>,
  clientId: string,
  input: { limit: number; windowSeconds: number; reason: string },
): Promise<StoredThrottle | undefined> {
  const before = await findClientRateLimit(trx, clientId);
  await upsertClientRateLimit(trx, { client_id: clientId, limit: input.limit, window_seconds: input.windowSeconds, reason: input.reason });
  return before;
}

/** Lifts the client's throttle in the operator's transaction; returns the one lifted, undefined when there was none. */
export function liftClientThrottle(trx: Transaction<Database>, clientId: string): Promise<StoredThrottle | undefined> {
  return deleteClientRateLimit(trx, clientId);
}

import type { Transaction } from 'kysely';
import { appendAuditEvent } from '../audit/audit-trail.ts';
import { type AccountDirectory, accountReferenceOf, type BankAccount } from '../customers/account-directory.ts';
import type { Db } from '../db/connect.ts';
import type { AuditActorKind, ConsentRow, ConsentStatus, ConsentType, Database, NewConsent } from '../db/schema.ts';
import type { EndedBy } from '../protocol/consent-types.ts';
import { recordConsentChange } from '../outbox/outbox.ts';
import { destroyGrantEverywhere, lockOrphanConsentGrants, releaseConsentFromGrant } from '../store/artefacts.ts';
import { canUseAccount, paysIntoItself } from './account-choices.ts';
import type { ConsentAuthorisation, StartAuthorisation } from './consent-authorisation.ts';
import { insertAuthorisation, listAuthorisations } from './consent-authorisation-repository.ts';
import { type Consent, type ConsentDraft, effectiveStatus, toConsent } from './consent.ts';
import { AccountSelectionInvalid, ConsentExpired, ConsentNotFound, IdempotencyConflict } from './consent-errors.ts';
import {
  countByTypeAndStatus,
  consentStandingsOfGrantJson,
  findConsent,
  findConsentByIdempotencyKey,
  findConsents,
  findConsentsAfterTransitions,
  findConsentStandingsOfGrantJson,
  findConsentByInteraction,
  findGrantIdsOfAuthorisedConsents,
  insertConsent,
  listConsentsOfCustomer,
  listConsentsOfGrant,
  lockAuthorisedOfCustomerWithClients,
  lockAuthorisedOfGrant,
  lockConsent,
  lockConsentsOfGrant,
  lockDueForExpiry,
  markConsumed,
  selectConsents,
  updateConsent,
  type ConsentFilter,
} from './consent-repository.ts';
import { assertTransition, canReauthorise, IllegalConsentTransition } from './consent-status.ts';
import { purposeOf } from './vrp/vrp-terms.ts';

/**
 * The consent service: every status change goes through `transition` (or, for consumption,
 * `consumePaymentConsent`), which checks the status machine and writes the change, its audit event
 * and the TPP's event notifications (outbox/outbox.ts) in one transaction.
 */

export interface Actor {
  kind: AuditActorKind;
  id: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function draftColumns(draft: ConsentDraft): Omit<NewConsent, 'client_id' | 'status'> {
  return {
    type: draft.type,
    standard: draft.standard,
    access: JSON.stringify(draft.reads),
    expires_at: draft.expiresAt,
    transaction_from: draft.transactionFrom,
    transaction_to: draft.transactionTo,
    recurring: draft.recurring,
    frequency_per_day: draft.frequencyPerDay,
    combined_service: draft.combinedService,
    redirect_uri: draft.redirectUri,
    payment_scheme: draft.payment?.scheme ?? null,
    instructed_amount: draft.payment?.amount ?? null,
    instructed_currency: draft.payment?.currency ?? null,
    creditor_account: draft.payment ? JSON.stringify(draft.payment.creditorAccount) : null,
    creditor_name: draft.payment?.creditorName ?? null,
    remittance_reference: draft.payment?.reference ?? null,
    instruction_identification: draft.payment?.instructionIdentification ?? null,
    end_to_end_identification: draft.payment?.endToEndIdentification ?? null,
    creditor_agent: draft.payment?.creditorAgent ?? null,
    requested_execution_date: draft.payment?.requestedExecutionDate ?? null,
    debtor_account: draft.debtorAccount ? JSON.stringify(draft.debtorAccount) : null,
    risk: JSON.stringify(draft.risk),
    vrp: draft.vrp ? JSON.stringify(draft.vrp) : null,
  };
}

/** Who ended a consent that an actor of this kind revoked or rejected: operators and the system speak for the bank. */
const ENDER: Record<AuditActorKind, EndedBy> = {
  customer: 'customer',
  tpp: 'tpp',
  operator: 'bank',
  resource_server: 'bank',
  system: 'bank',
};

export interface CreateConsent {
  clientId: string;
  draft: ConsentDraft;
  /** The TPP's x-idempotency-key with a hash of the request body it came with. */
  idempotency?: { key: string; requestHash: string };
  /** Set when the consent comes from an authorization request's authorization_details. */
  interactionUid?: string;
  /** An authorisation started with the consent, in its transaction (the Berlin Group's implicit start). */
  authorisation?: StartAuthorisation;
}

/**
 * Creates an AwaitingAuthorisation consent. A repeated idempotency key (or interaction) returns the
 * consent created first, provided the request is the same; concurrent repeats race on the unique key.
 */
export async function createConsent(
  db: Db,
  input: CreateConsent,
): Promise<{ consent: Consent; created: boolean; authorisation?: ConsentAuthorisation }> {
  const { clientId, idempotency, interactionUid } = input;
  let authorisation: ConsentAuthorisation | undefined;
  const inserted = await db.transaction().execute(async (trx) => {
    const row = await insertConsent(trx, {
      ...draftColumns(input.draft),
      client_id: clientId,
      status: 'AwaitingAuthorisation',
      idempotency_key: idempotency?.key ?? null,
      request_hash: idempotency?.requestHash ?? null,
      interaction_uid: interactionUid ?? null,
    });
    if (row) {
      await appendAuditEvent(trx, {
        subjectType: 'consent',
        subjectId: row.id,
        event: 'consent.created',
        actor: { kind: 'tpp', id: clientId },
        after: { status: row.status },
        details: { type: row.type, ...(interactionUid && { source: 'authorization_details' }) },
      });
      if (input.authorisation) authorisation = await startAuthorisationIn(trx, row, clientId, input.authorisation);
    }
    return row;
  });
  if (inserted) return { consent: toConsent(inserted), created: true, ...(authorisation && { authorisation }) };
  const existing = idempotency
    ? await findConsentByIdempotencyKey(db, clientId, idempotency.key)
    : interactionUid && (await findConsentByInteraction(db, clientId, interactionUid));
  if (!existing) throw new Error('consent insert conflicted but no earlier consent was found');
  if (idempotency && existing.request_hash !== idempotency.requestHash) throw new IdempotencyConflict();
  return { consent: toConsent(existing), created: false };
}

/** Records an authorisation of the locked (or just created) consent, audited, with what goes alongside it. */
async function startAuthorisationIn(
  trx: Transaction<Database>,
  row: ConsentRow,
  clientId: string,
  start: StartAuthorisation,
): Promise<ConsentAuthorisation> {
  const authorisation = await insertAuthorisation(trx, row.id, start.approach);
  await appendAuditEvent(trx, {
    subjectType: 'consent',
    subjectId: row.id,
    event: 'consent.authorisation_started',
    actor: { kind: 'tpp', id: clientId },
    details: { authorisationId: authorisation.id, approach: start.approach },
  });
  await start.alongside?.(trx, { authorisation, consent: toConsent(row) });
  return authorisation;
}

/**
 * The TPP starts another authorisation of its consent (the Berlin Group's explicit start): only while the
 * consent awaits the customer and has not passed its expiry; otherwise IllegalConsentTransition (or
 * ConsentExpired), and nothing is written.
 */
export async function startConsentAuthorisation(
  db: Db,
  input: { clientId: string; consentId: string } & StartAuthorisation,
): Promise<{ consent: Consent; authorisation: ConsentAuthorisation }> {
  const { clientId, consentId, ...start } = input;
  return db.transaction().execute(async (trx) => {
    const locked = await lockOrFail(trx, consentId, clientId);
    assertTransition(locked.type, effectiveStatus(locked), 'Authorised');
    refuseIfExpired(locked);
    return { consent: toConsent(locked), authorisation: await startAuthorisationIn(trx, locked, clientId, start) };
  });
}

/** The authorisations started for a consent, oldest first. */
export function authorisationsOfConsent(db: Db, consentId: string): Promise<ConsentAuthorisation[]> {
  return UUID.test(consentId) ? listAuthorisations(db, consentId) : Promise.resolve([]);
}

export async function getConsent(db: Db, id: string): Promise<Consent | undefined> {
  if (!UUID.test(id)) return undefined;
  const row = await findConsent(db, id);
  return row && toConsent(row);
}

/** Consents by id in one read (ids that are not UUIDs or not stored are left out), in no set order. */
export async function getConsents(db: Db, ids: readonly string[]): Promise<Consent[]> {
  const wanted = ids.filter((id) => UUID.test(id));
  if (wanted.length === 0) return [];
  return (await findConsents(db, wanted)).map((row) => toConsent(row));
}

/** Several consents as they stand once any transition in flight on them has committed, in one read. */
export async function getSettledConsents(db: Db, ids: readonly string[]): Promise<Consent[]> {
  const wanted = ids.filter((id) => UUID.test(id));
  if (wanted.length === 0) return [];
  return (await findConsentsAfterTransitions(db, wanted)).map((row) => toConsent(row));
}

/** What introspection needs to know of a consent in a grant: whether it holds, and whose it is. */
export interface ConsentStanding {
  id: string;
  /** As Consent.status: an Authorised consent past its expiry reads as Expired. */
  status: ConsentStatus;
  clientId: string;
}

/** The SQL that reads a grant's consent standings with the grant (the adapter's grant companion). */
export const consentStandingsWithGrant = consentStandingsOfGrantJson;

/**
 * The standings of the consents living in a grant: from what was read with the grant in this request
 * (`companion`), or else read now.
 */
export async function consentStandingsOfGrant(db: Db, grantId: string, companion?: unknown): Promise<ConsentStanding[]> {
  const json = (companion ?? (await findConsentStandingsOfGrantJson(db, grantId))) as {
    id: string;
    status: ConsentStatus;
    expires_at: string | null;
    client_id: string;
  }[];
  const now = new Date();
  return json.map((row) => ({
    id: row.id,
    status: effectiveStatus({ status: row.status, expires_at: row.expires_at === null ? null : new Date(row.expires_at) }, now),
    clientId: row.client_id,
  }));
}

/** A TPP's view: another TPP's consent does not exist for it. */
export async function getConsentForClient(db: Db, clientId: string, id: string): Promise<Consent | undefined> {
  const consent = await getConsent(db, id);
  return consent?.clientId === clientId ? consent : undefined;
}

export async function getConsentOfInteraction(db: Db, clientId: string, interactionUid: string): Promise<Consent | undefined> {
  const row = await findConsentByInteraction(db, clientId, interactionUid);
  return row && toConsent(row);
}

export type { ConsentFilter } from './consent-repository.ts';

/** The operator's search, newest first; status is the effective one (an Authorised consent past its expiry is Expired). */
export async function searchConsents(db: Db, filter: ConsentFilter): Promise<Consent[]> {
  const now = new Date();
  return (await selectConsents(db, { ...filter, now })).map((row) => toConsent(row, now));
}

/** How many consents there are of each type in each stored status (for metrics). */
export async function countConsentsByTypeAndStatus(db: Db): Promise<{ type: ConsentType; status: ConsentStatus; count: number }[]> {
  return countByTypeAndStatus(db);
}

export async function consentsOfCustomer(db: Db, customerId: string): Promise<Consent[]> {
  if (!UUID.test(customerId)) return [];
  return (await listConsentsOfCustomer(db, customerId)).map((row) => toConsent(row));
}

interface Transition {
  to: ConsentStatus;
  actor: Actor;
  event: string;
  changes?: Omit<Parameters<typeof updateConsent>[2], 'status'>;
  details?: Record<string, unknown>;
  /** Why an authorisation ended, for the TPP's consent-authorization-revoked event. */
  reason?: string | undefined;
}

/** The audit event and the TPP's event notifications of one status change, in the caller's transaction. */
async function recordStatusChange(
  trx: Transaction<Database>,
  before: ConsentRow,
  after: ConsentRow,
  change: Omit<Transition, 'to' | 'changes'>,
) {
  await appendAuditEvent(trx, {
    subjectType: 'consent',
    subjectId: after.id,
    event: change.event,
    actor: change.actor,
    before: { status: before.status },
    after: { status: after.status },
    details: change.details,
  });
  await recordConsentChange(trx, {
    consentId: after.id,
    consentType: after.type,
    consentStandard: after.standard,
    clientId: after.client_id,
    status: after.status,
    actor: change.actor.kind,
    reason: change.reason,
  });
}

async function transition(trx: Transaction<Database>, row: ConsentRow, change: Transition): Promise<ConsentRow> {
  // A consent past its expiry is already Expired for every transition except the one that records it.
  assertTransition(row.type, change.to === 'Expired' ? row.status : effectiveStatus(row), change.to);
  const now = new Date();
  const ended = change.to === 'Revoked' || change.to === 'Rejected' ? { ended_by: ENDER[change.actor.kind] } : {};
  const updated = await updateConsent(trx, row.id, {
    ...change.changes,
    ...ended,
    status: change.to,
    status_updated_at: now,
    updated_at: now,
  });
  await recordStatusChange(trx, row, updated, change);
  return updated;
}

async function lockOrFail(trx: Transaction<Database>, id: string, clientId?: string): Promise<ConsentRow> {
  const row = UUID.test(id) ? await lockConsent(trx, id) : undefined;
  if (!row || (clientId !== undefined && row.client_id !== clientId)) throw new ConsentNotFound();
  return row;
}

function refuseIfExpired(row: ConsentRow) {
  if (row.expires_at !== null && row.expires_at <= new Date()) throw new ConsentExpired();
}

/**
 * The accounts a consent of this type needs: any number to read, exactly one to pay from or check, each
 * one the consent can use (account-choices.ts: the one it names, its currency, not the payee's).
 */
function checkAccountSelection(owned: readonly BankAccount[], row: ConsentRow, accountIds: readonly string[]) {
  const unique = [...new Set(accountIds)];
  if (unique.length === 0) throw new AccountSelectionInvalid('select at least one account');
  if (row.type !== 'account_access' && unique.length !== 1) throw new AccountSelectionInvalid('select exactly one account');
  if (owned.length !== unique.length) throw new AccountSelectionInvalid('an account is not one of the customer’s');
  const consent = toConsent(row);
  if (owned.some((account) => paysIntoItself(consent, account))) {
    throw new AccountSelectionInvalid(
      consent.vrp && purposeOf(consent.vrp) === 'sweeping'
        ? 'the selected account is the one the money would be swept into'
        : 'the selected account is the payee’s own account',
      { paysIntoItself: true },
    );
  }
  if (!owned.every((account) => canUseAccount(consent, account))) {
    throw new AccountSelectionInvalid(
      'the selected account cannot be used for this consent (not the one it names, another currency, or the payee’s own account)',
    );
  }
  return unique;
}

/**
 * What authorising records about the accounts: the selection, and for a payment or VRP the account it
 * pays from by its number, which the bank's VRP payment decision checks without the account directory.
 */
function accountColumns(row: ConsentRow, owned: readonly BankAccount[], accounts: readonly string[]) {
  const paying =
    row.type === 'domestic_payment' || row.type === 'domestic_vrp' ? owned.find((account) => account.id === accounts[0]) : undefined;
  return {
    selected_account_ids: JSON.stringify(accounts),
    ...(paying && { paying_account: JSON.stringify(accountReferenceOf(paying)) }),
  };
}

export interface AuthoriseConsent {
  /**
   * What the customer approved beyond the consent row (PSD2 dynamic linking of a payment): verified
   * against the locked consent before anything changes, and its digest recorded in the audit event.
   */
  approval?: { digest: string; verify(consent: Consent): void };
  consentId: string;
  clientId: string;
  customerId: string;
  accountIds: readonly string[];
  /** The grant it lives in; null when no token is issued for it (a decoupled Berlin Group authorisation). */
  grantId: string | null;
  /**
   * When this authorization began. A consent already Authorised before then is being re-authenticated;
   * one Authorised since was approved by a concurrent authorization, which stays the only winner.
   */
  startedAt?: Date;
}

/** The customer approves: the consent records who, which accounts and the grant it lives in. */
export async function authoriseConsent(db: Db, directory: AccountDirectory, input: AuthoriseConsent): Promise<Consent> {
  // Ownership is read before the transaction: the directory may be another system, and embedded PGlite
  // has one connection, which the transaction holds.
  const owned = await directory.findOwned(input.customerId, [...new Set(input.accountIds)]);
  return db.transaction().execute((trx) => authoriseConsentIn(trx, owned, input));
}

/**
 * `authoriseConsent` inside the caller's transaction, for a caller that commits more with it (the
 * interaction's grant and decision). `customerAccounts` are the customer's accounts as the account
 * directory gave them, read before the transaction; only the selected ones among them count as owned.
 */
export async function authoriseConsentIn(
  trx: Transaction<Database>,
  customerAccounts: readonly BankAccount[],
  input: AuthoriseConsent,
): Promise<Consent> {
  const selected = new Set(input.accountIds);
  const owned = customerAccounts.filter((account) => account.customerId === input.customerId && selected.has(account.id));
  const locked = await lockOrFail(trx, input.consentId, input.clientId);
  if (input.startedAt && canReauthorise(locked.type, locked.status) && locked.status_updated_at < input.startedAt) {
    return toConsent(await reauthorise(trx, owned, locked, input));
  }
  assertTransition(locked.type, locked.status, 'Authorised');
  refuseIfExpired(locked);
  input.approval?.verify(toConsent(locked));
  const accounts = checkAccountSelection(owned, locked, input.accountIds);
  const row = await transition(trx, locked, {
    to: 'Authorised',
    actor: { kind: 'customer', id: input.customerId },
    event: 'consent.authorised',
    changes: { customer_id: input.customerId, ...accountColumns(locked, owned, accounts), grant_id: input.grantId },
    details: { accountIds: accounts, grantId: input.grantId, ...(input.approval && { approvalDigest: input.approval.digest }) },
  });
  return toConsent(row);
}

/**
 * UK OB re-authentication: the consent's own customer authorises it again. The consent keeps its id
 * and status and moves to the new grant; the old grant dies with every token under it.
 */
async function reauthorise(
  trx: Transaction<Database>,
  owned: readonly BankAccount[],
  row: ConsentRow,
  input: AuthoriseConsent,
): Promise<ConsentRow> {
  refuseIfExpired(row);
  if (row.customer_id !== input.customerId) throw new IllegalConsentTransition(row.type, row.status, 'Authorised');
  const accounts = checkAccountSelection(owned, row, input.accountIds);
  const updated = await updateConsent(trx, row.id, {
    ...accountColumns(row, owned, accounts),
    grant_id: input.grantId,
    updated_at: new Date(),
  });
  await appendAuditEvent(trx, {
    subjectType: 'consent',
    subjectId: row.id,
    event: 'consent.reauthorised',
    actor: { kind: 'customer', id: input.customerId },
    before: { status: row.status, grantId: row.grant_id },
    after: { status: updated.status, grantId: input.grantId },
    details: { accountIds: accounts },
  });
  if (row.grant_id && row.grant_id !== input.grantId) await releaseConsentFromGrant(trx, row.grant_id, row.id);
  return updated;
}

/** The customer declines on the consent page. */
export async function rejectConsent(db: Db, input: RejectConsent): Promise<Consent> {
  const row = await db
    .transaction()
    .execute(async (trx) => rejectLocked(trx, await lockOrFail(trx, input.consentId, input.clientId), input));
  return toConsent(row);
}

interface RejectConsent {
  consentId: string;
  clientId: string;
  customerId: string | null;
}

function rejectLocked(trx: Transaction<Database>, locked: ConsentRow, input: RejectConsent) {
  return transition(trx, locked, {
    to: 'Rejected',
    actor: { kind: 'customer', id: input.customerId },
    event: 'consent.rejected',
    changes: input.customerId ? { customer_id: input.customerId } : {},
  });
}

/**
 * The customer declines inside the caller's transaction: a consent still awaiting them is Rejected;
 * one that is not (being re-authenticated, or ended meanwhile) stays as it is, and the TPP just hears
 * access_denied.
 */
export async function declineConsentIn(trx: Transaction<Database>, input: RejectConsent): Promise<void> {
  const locked = await lockOrFail(trx, input.consentId, input.clientId);
  if (locked.status === 'AwaitingAuthorisation') await rejectLocked(trx, locked, input);
}

async function revokeLocked(trx: Transaction<Database>, row: ConsentRow, actor: Actor, reason?: string) {
  const details = { grantId: row.grant_id, ...(reason && { reason }) };
  const updated = await transition(trx, row, { to: 'Revoked', actor, event: 'consent.revoked', details, reason });
  if (row.grant_id) await releaseConsentFromGrant(trx, row.grant_id, row.id);
  return updated;
}

/**
 * Revokes an Authorised consent and, in the same transaction, its grant with every token issued
 * under it. `clientId` restricts it to that TPP's consents.
 */
export async function revokeConsent(
  db: Db,
  input: { consentId: string; actor: Actor; clientId?: string; reason?: string },
): Promise<Consent> {
  const row = await db
    .transaction()
    .execute(async (trx) => revokeLocked(trx, await lockOrFail(trx, input.consentId, input.clientId), input.actor, input.reason));
  return toConsent(row);
}

export const CODE_REUSED = 'authorization code reused';
export const REFRESH_TOKEN_REUSED = 'refresh token reused';
/** Why a grant was taken down for a credential presented twice. */
export type ReuseReason = typeof CODE_REUSED | typeof REFRESH_TOKEN_REUSED;

/**
 * RFC 9700 4.5 and 4.14: an authorization code redeemed twice, or a rotated refresh token presented
 * again, takes its grant down with every token issued under it. The consent living in that grant ends
 * with it, in the same transaction (Revoked, with the reason recorded and audited), instead of staying
 * Authorised with no grant, which a payment consent could never leave and an account-access consent
 * would leave re-authorisable by whoever stole the token. The TPP sees the status and reason on GET
 * and creates a new consent.
 */
export async function endGrantOfReuse(db: Db, grantId: string, reason: ReuseReason): Promise<void> {
  // A merged grant (grant management) holds several consents: all of them end with it.
  const work = async (trx: Transaction<Database>) =>
    endGrantWithConsents(trx, grantId, await lockConsentsOfGrant(trx, grantId), { kind: 'system', id: null }, reason);
  // The adapter may already be inside a caller's transaction (db/ambient-transaction.ts).
  if (db.isTransaction) await work(db as Transaction<Database>);
  else await db.transaction().execute(work);
}

/**
 * Ends a grant whose credential was abused or given up: each of `rows` (its consents, locked) still
 * Authorised becomes Revoked with `reason` as its status reason, which the TPP reads on GET, audited;
 * then the grant goes with every token under it. Returns the consents revoked.
 */
async function endGrantWithConsents(
  trx: Transaction<Database>,
  grantId: string,
  rows: readonly ConsentRow[],
  actor: Actor,
  reason: string,
): Promise<ConsentRow[]> {
  const revoked: ConsentRow[] = [];
  for (const row of rows) {
    if (effectiveStatus(row) !== 'Authorised') continue;
    revoked.push(
      await transition(trx, row, {
        to: 'Revoked',
        actor,
        event: 'consent.revoked',
        changes: { status_reason: reason },
        details: { reason, grantId },
        reason,
      }),
    );
  }
  await destroyGrantEverywhere(trx, grantId);
  return revoked;
}

/**
 * The TPP's DELETE: a consent still awaiting the customer is withdrawn (Rejected), an Authorised one
 * is revoked with its grant; anything else is an illegal transition.
 */
export async function withdrawConsentForClient(db: Db, clientId: string, consentId: string): Promise<Consent> {
  const row = await db.transaction().execute(async (trx) => {
    const locked = await lockOrFail(trx, consentId, clientId);
    if (locked.status === 'AwaitingAuthorisation') return withdrawLocked(trx, locked, clientId);
    return revokeLocked(trx, locked, { kind: 'tpp', id: clientId });
  });
  return toConsent(row);
}

function withdrawLocked(trx: Transaction<Database>, locked: ConsentRow, clientId: string) {
  const actor: Actor = { kind: 'tpp', id: clientId };
  return transition(trx, locked, { to: 'Rejected', actor, event: 'consent.rejected', details: { reason: 'withdrawn by the TPP' } });
}

/**
 * The TPP withdraws a consent only while the customer has not decided it (Berlin Group's cancelPayment: a
 * payment the customer authorised is the bank's to execute, no longer the TPP's to take back). `refuse` is
 * the dialect's answer for a consent no longer awaiting the customer; it is asked under the consent's row
 * lock, so an authorisation committing meanwhile is seen and the withdrawal refused, never a revocation.
 */
export async function withdrawPendingConsentForClient(
  db: Db,
  input: { clientId: string; consentId: string; refuse(consent: Consent): Error },
): Promise<Consent> {
  const row = await db.transaction().execute(async (trx) => {
    const locked = await lockOrFail(trx, input.consentId, input.clientId);
    if (locked.status !== 'AwaitingAuthorisation') throw input.refuse(toConsent(locked));
    return withdrawLocked(trx, locked, input.clientId);
  });
  return toConsent(row);
}

/**
 * The bank initiates the payment: a live Authorised payment consent becomes Consumed exactly once
 * (markConsumed decides among concurrent callers), and its grant dies with it, so no token of the
 * consent can initiate again. A refusal says why: unknown, not a payment consent, expired, or decided.
 */
export async function consumePaymentConsent(db: Db, input: { consentId: string; actor: Actor }): Promise<Consent> {
  if (!UUID.test(input.consentId)) throw new ConsentNotFound();
  const consumed = await db.transaction().execute(async (trx) => {
    const row = await markConsumed(trx, input.consentId);
    if (!row) return undefined;
    await recordStatusChange(trx, { ...row, status: 'Authorised' }, row, {
      event: 'consent.consumed',
      actor: input.actor,
      details: { grantId: row.grant_id },
    });
    if (row.grant_id) await releaseConsentFromGrant(trx, row.grant_id, row.id);
    return row;
  });
  if (consumed) return toConsent(consumed);
  const current = await findConsent(db, input.consentId);
  if (!current) throw new ConsentNotFound();
  const status = effectiveStatus(current);
  if (status === 'Expired' && current.status === 'Authorised') throw new ConsentExpired();
  throw new IllegalConsentTransition(current.type, status, 'Consumed');
}

/** Moves Authorised consents past their expiry to Expired and removes their grants; returns how many. */
export async function expireDueConsents(db: Db, batchSize = 100): Promise<number> {
  let total = 0;
  for (;;) {
    const expired = await db.transaction().execute(async (trx) => {
      const due = await lockDueForExpiry(trx, batchSize);
      for (const row of due) {
        await transition(trx, row, {
          to: 'Expired',
          actor: { kind: 'system', id: null },
          event: 'consent.expired',
          details: { grantId: row.grant_id },
        });
        if (row.grant_id) await releaseConsentFromGrant(trx, row.grant_id, row.id);
      }
      return due.length;
    });
    total += expired;
    if (expired < batchSize) return total;
  }
}

/** Longer than any interaction takes from saving its grant to authorising the consent (milliseconds). */
const ORPHAN_GRANT_GRACE_SECONDS = 600;

/**
 * Deletes consent-bound grants that their consent does not hold, with everything issued under them: a
 * crash between saving the grant and authorising the consent leaves one behind (the consent is still
 * AwaitingAuthorisation, or was rejected), and no code was ever issued for it. Only grants older than
 * the grace period, so an authorisation under way is never raced. Part of the periodic expiry sweep.
 */
export async function sweepOrphanGrants(db: Db, options: { graceSeconds?: number; batchSize?: number } = {}): Promise<number> {
  const graceSeconds = options.graceSeconds ?? ORPHAN_GRANT_GRACE_SECONDS;
  const batchSize = options.batchSize ?? 100;
  let total = 0;
  for (;;) {
    const swept = await db.transaction().execute(async (trx) => {
      const orphans = await lockOrphanConsentGrants(trx, graceSeconds, batchSize);
      for (const id of orphans) await destroyGrantEverywhere(trx, id);
      return orphans.length;
    });
    total += swept;
    if (swept < batchSize) return total;
  }
}

/**
 * FAPI Grant Management's DELETE: every live consent the TPP holds in one grant is revoked, and the
 * grant dies with its tokens, in one transaction. Returns the consents revoked.
 */
export async function revokeConsentsOfGrant(db: Db, input: RevokeConsentsOfGrant): Promise<Consent[]> {
  return db.transaction().execute((trx) => revokeConsentsOfGrantIn(trx, input));
}

interface RevokeConsentsOfGrant {
  grantId: string;
  clientId: string;
  reason: string;
}

/** `revokeConsentsOfGrant` inside the caller's transaction (an approval that `replace`s a grant). */
export async function revokeConsentsOfGrantIn(trx: Transaction<Database>, input: RevokeConsentsOfGrant): Promise<Consent[]> {
  const actor: Actor = { kind: 'tpp', id: input.clientId };
  const revoked: ConsentRow[] = [];
  for (const row of await lockAuthorisedOfGrant(trx, input.grantId, input.clientId)) {
    if (effectiveStatus(row) === 'Authorised') revoked.push(await revokeLocked(trx, row, actor, input.reason));
  }
  await destroyGrantEverywhere(trx, input.grantId);
  return revoked.map((row) => toConsent(row));
}

/** Why a consent ended when its TPP revoked one of its tokens. */
export const TOKEN_REVOKED = 'the TPP revoked its token (RFC 7009)';

/**
 * RFC 7009 revocation of a token (access or refresh) of a grant that holds consents. The engine ends
 * the whole token family of the grant either way (RFC 7009 2.1 allows it for an access token, and it
 * is what oidc-provider does), which would leave each consent Authorised with no token to use it by: a
 * payment or VRP consent could never be bound again, and the bank API would still pay under it. So the
 * consents end here, before the engine destroys anything, as a TPP's DELETE ends them: Revoked by the
 * TPP with the reason, audited and notified, with the grant and every token, in one transaction; if it
 * fails, nothing is revoked and the TPP can try again. Returns the consents revoked; none when the
 * grant holds no live consent (the engine then revokes as it always does).
 */
export async function endConsentsOfRevokedToken(db: Db, input: { grantId: string; clientId: string }): Promise<Consent[]> {
  return db.transaction().execute(async (trx) => {
    const held = await lockAuthorisedOfGrant(trx, input.grantId, input.clientId);
    if (!held.some((row) => effectiveStatus(row) === 'Authorised')) return [];
    return (await endGrantWithConsents(trx, input.grantId, held, { kind: 'tpp', id: input.clientId }, TOKEN_REVOKED)).map((row) =>
      toConsent(row),
    );
  });
}

/** The consents a grant holds, whatever their status (grant management's GET). */
export async function consentsOfGrant(db: Db, clientId: string, grantId: string): Promise<Consent[]> {
  return (await listConsentsOfGrant(db, grantId, clientId)).map((row) => toConsent(row));
}

/** The grants of the customer's authorised consents (an account takeover's lockdown counts their tokens before ending them). */
export async function grantsOfAuthorisedConsents(db: Db, customerId: string): Promise<string[]> {
  return (await findGrantIdsOfAuthorisedConsents(db, customerId)).map((row) => row.grant_id!);
}

/**
 * The customer's "stop sharing": every live consent of this customer with one TPP, through any of the
 * TPP's clients (`clientIds`; or, without it, an operator's account-takeover lockdown: with every TPP),
 * is revoked, each with its grant and tokens, in one transaction (all or none). Consents already past
 * their expiry are left for the expiry sweep. Returns the consents revoked.
 */
export async function revokeConsentsWithTpp(
  db: Db,
  input: { customerId: string; clientIds?: readonly string[]; actor: Actor; reason?: string },
): Promise<Consent[]> {
  if (!UUID.test(input.customerId) || input.clientIds?.length === 0) return [];
  const rows = await db.transaction().execute(async (trx) => {
    const live = (await lockAuthorisedOfCustomerWithClients(trx, input.customerId, input.clientIds)).filter(
      (row) => effectiveStatus(row) === 'Authorised',
    );
    const revoked: ConsentRow[] = [];
    for (const row of live) revoked.push(await revokeLocked(trx, row, input.actor, input.reason));
    return revoked;
  });
  return rows.map((row) => toConsent(row));
}

import type { Authorisation, AuthorisationStage, ConsentState, ConsentStatus, EndedBy } from './bg-model.ts';

/**
 * The domain's statuses in the Berlin Group's words: consentStatus of an AIS consent, transactionStatus of a
 * payment (ISO 20022 codes), scaStatus of an authorisation sub-resource. Sources: the NextGenPSD2 OpenAPI
 * file v1.3.11, schemas consentStatus, transactionStatus and scaStatus.
 */

/**
 * The file's consentStatus values Assent answers, plus terminatedByAspsp: the file's enum ends at
 * terminatedByTpp (and partiallyAuthorised, for multi-level SCA, which Assent has not) and says "The ASPSP
 * might add further codes. These codes then shall be contained in the ASPSP's documentation"; a consent the
 * bank ends (an operator's incident command, a suspended TPP) is none of the file's, and adorsys/xs2a, the
 * most used implementation, answers it terminatedByAspsp (its ConsentStatus.TERMINATED_BY_ASPSP). Assent
 * documents it in its OpenAPI document.
 */
export type BgConsentStatus = 'received' | 'rejected' | 'valid' | 'revokedByPsu' | 'expired' | 'terminatedByTpp' | 'terminatedByAspsp';

const REVOKED_BY: Record<EndedBy, BgConsentStatus> = {
  customer: 'revokedByPsu',
  tpp: 'terminatedByTpp',
  bank: 'terminatedByAspsp',
};

const CONSENT_STATUS: Record<ConsentStatus, BgConsentStatus | typeof REVOKED_BY> = {
  AwaitingAuthorisation: 'received',
  Authorised: 'valid',
  // The TPP's DELETE of a consent still awaiting the customer withdraws it (Rejected, ended by the TPP): the
  // file's terminatedByTpp, "The corresponding consent has been terminated by the TPP", whatever its stage.
  Rejected: { customer: 'rejected', tpp: 'terminatedByTpp', bank: 'rejected' },
  Revoked: REVOKED_BY,
  Expired: 'expired',
  // A one-off AIS consent that was used up: no longer valid, as the file's 'expired' says of a consent that ended.
  Consumed: 'expired',
};

/** An AIS consent's consentStatus. A revoked consent that does not say by whom reads as ended by the bank. */
export function bgConsentStatusOf(status: ConsentStatus, endedBy: EndedBy | null): BgConsentStatus {
  const row = CONSENT_STATUS[status];
  return typeof row === 'string' ? row : row[endedBy ?? 'bank'];
}

/** The ISO 20022 transaction statuses Assent answers (of the file's ACCC ... PART). */
export type BgTransactionStatus = 'RCVD' | 'ACTC' | 'ACSP' | 'RJCT' | 'CANC';

const CANCELLED_BY: Record<EndedBy, BgTransactionStatus> = { customer: 'CANC', tpp: 'CANC', bank: 'RJCT' };

/**
 * A payment's transactionStatus:
 * - AwaitingAuthorisation: RCVD, "Payment initiation has been received by the receiving agent".
 * - Authorised: ACTC, "Authentication and syntactical and semantical validation are successful". Not ACCP
 *   (a customer profile check) nor ACSP (accepted for execution): those are the bank's core system's to say,
 *   and Assent knows only that the customer authorised.
 * - Consumed (the bank took the payment through the bank API): ACSP, "accepted for execution". Not ACSC: the
 *   file allows settlement statuses "only after bilateral agreement", and Assent does not see settlement.
 * - Rejected: RJCT. Expired (never authorised in time, or authorised and never taken): RJCT.
 * - Revoked by the customer or the TPP (cancelPayment): CANC, "cancelled before execution"; by the bank: RJCT.
 */
const TRANSACTION_STATUS: Record<ConsentStatus, BgTransactionStatus | typeof CANCELLED_BY> = {
  AwaitingAuthorisation: 'RCVD',
  Authorised: 'ACTC',
  Consumed: 'ACSP',
  Rejected: 'RJCT',
  Expired: 'RJCT',
  Revoked: CANCELLED_BY,
};

export function bgTransactionStatusOf(status: ConsentStatus, endedBy: EndedBy | null): BgTransactionStatus {
  const row = TRANSACTION_STATUS[status];
  return typeof row === 'string' ? row : row[endedBy ?? 'bank'];
}

/**
 * The scaStatus values Assent answers. Not psuIdentified, scaMethodSelected or unconfirmed (the embedded
 * approach's steps, out of scope) nor exempted (Assent always applies SCA).
 */
export type BgScaStatus = 'received' | 'started' | 'psuAuthenticated' | 'finalised' | 'failed';

/**
 * An authorisation still under way: "received" once created, "started" once the device was asked
 * (decoupled), "psuAuthenticated" once the customer signed in; "failed" once the device's request lapsed.
 */
const IN_PROGRESS: Record<AuthorisationStage, BgScaStatus> = {
  started: 'received',
  sca_started: 'started',
  customer_authenticated: 'psuAuthenticated',
  lapsed: 'failed',
};

/** The statuses only an authorised consent reaches (consents/consent-status.ts). */
const AUTHORISED_ONCE: ReadonlySet<ConsentStatus> = new Set(['Authorised', 'Revoked', 'Expired', 'Consumed']);

/**
 * The scaStatus of one authorisation sub-resource of a consent (or payment). The latest authorisation carries
 * the consent's outcome: finalised once the customer authorised it (whatever became of it since), failed once
 * it was rejected or ended before being authorised, else its own progress. An earlier one was superseded: it
 * is finalised only if the consent was authorised before the later one began, which Assent does not allow,
 * so it is failed.
 */
export function bgScaStatusOf(consent: ConsentState, authorisation: Authorisation): BgScaStatus {
  const latest = consent.authorisations.at(-1);
  if (latest?.id !== authorisation.id) return 'failed';
  if (AUTHORISED_ONCE.has(consent.status)) return 'finalised';
  if (consent.status === 'AwaitingAuthorisation') return IN_PROGRESS[authorisation.stage];
  return 'failed';
}

import type { Transaction } from 'kysely';
import type { ConsentAuthorisationApproach, Database } from '../db/schema.ts';
import type { Consent } from './consent.ts';

export type { ConsentAuthorisationApproach } from '../db/schema.ts';

/**
 * An attempt at the customer's strong authentication of a consent (the Berlin Group's authorisation
 * sub-resource; a standard without sub-resources simply starts none). Only that it was started, how and
 * when is stored: how it ended is the consent's status (authorised, or rejected), and how far a decoupled
 * one got is its request on the customer's device (ciba/).
 */
export interface ConsentAuthorisation {
  id: string;
  consentId: string;
  approach: ConsentAuthorisationApproach;
  createdAt: Date;
}

/** Written in the transaction that starts an authorisation, after its row and audit event: e.g. the device's request. */
export type AlongsideAuthorisation = (
  trx: Transaction<Database>,
  started: { authorisation: ConsentAuthorisation; consent: Consent },
) => Promise<void>;

export interface StartAuthorisation {
  approach: ConsentAuthorisationApproach;
  alongside?: AlongsideAuthorisation;
}

/** How far a decoupled authorisation got on the customer's device while its consent awaits them. */
export type DecoupledProgress =
  /** The device was asked and the customer has not decided yet. */
  | 'asked'
  /** The request expired undecided: this attempt failed, another may be started. */
  | 'lapsed';

/**
 * The customer's authentication device as a consent's decoupled authorisation uses it (implemented by
 * ciba/; a dialect reaches it through this seam, being below it).
 */
export interface DecoupledDevice {
  /**
   * Readies asking the device of the customer `psuId` names: `alongside` records the request in the
   * authorisation's transaction, `afterCommit` wakes the device. A PSU-ID that names no active customer is
   * accepted alike, and its request only lapses, so the TPP cannot tell who banks here.
   */
  prepare(input: { psuId: string; clientId: string }): Promise<{ alongside: AlongsideAuthorisation; afterCommit(): void }>;
  /** The progress of these decoupled authorisations (a missing id: no request, e.g. swept long after). */
  progress(authorisationIds: readonly string[]): Promise<Map<string, DecoupledProgress>>;
}

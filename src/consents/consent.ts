import type { ConsentRow } from '../db/schema.ts';
import type {
  AccountReference,
  ConsentStandard,
  ConsentStatus,
  ConsentType,
  EndedBy,
  PaymentScheme,
  ReadAccess,
  ReadScope,
} from '../protocol/consent-types.ts';
import type { VrpTerms } from './vrp/vrp-terms.ts';

export type {
  AccountReference,
  AccountReferenceScheme,
  ConsentStandard,
  ConsentType,
  EndedBy,
  PaymentScheme,
  ReadAccess,
  ReadScope,
} from '../protocol/consent-types.ts';

/**
 * The consent model: the consents domain's own terms, no standard's. Each dialect (uk-ob-v3/, later
 * berlin-group/) validates its wire shape, maps it into a ConsentDraft, and maps a Consent back out to
 * its own words; everything below the dialects (service, repository, dashboard, wording, interactions,
 * introspection, bank API) reads only this.
 */

/** A single payment as the TPP asked for it; the amount stays a decimal string throughout. */
export interface PaymentTerms {
  /** How the money moves (a UK domestic payment, a SEPA credit transfer, an instant one). */
  scheme: PaymentScheme;
  /** A decimal string ("42.50"), never a float. */
  amount: string;
  currency: string;
  creditorAccount: AccountReference;
  /** The payee's name (UK: CreditorAccount.Name; Berlin Group: creditorName). */
  creditorName: string;
  /** The remittance reference the payee sees; null when none was given. */
  reference: string | null;
  /** The TPP's id of the instruction: UK OB always has one; SEPA (Berlin Group) none. */
  instructionIdentification: string | null;
  /** The id that travels with the payment to the payee: UK OB always; SEPA when the TPP gave one. */
  endToEndIdentification: string | null;
  /** The payee's bank (a BIC), when named (SEPA's creditorAgent). */
  creditorAgent: string | null;
  /** The bank date (YYYY-MM-DD) a future-dated payment is to be made on; null: as soon as possible. */
  requestedExecutionDate: string | null;
}

/** What a TPP asks for, validated by its dialect, before it is stored. */
export interface ConsentDraft {
  type: ConsentType;
  /** The dialect the TPP spoke. */
  standard: ConsentStandard;
  /** What may be read, and of which accounts; empty for a consent that reads nothing. */
  reads: ReadAccess[];
  expiresAt: Date | null;
  transactionFrom: Date | null;
  transactionTo: Date | null;
  /** Whether the TPP may read again and again until expiry (UK account access: true), or once. */
  recurring: boolean;
  /** Reads a day without the customer present; null: no limit (UK). */
  frequencyPerDay: number | null;
  /** Berlin Group's combinedServiceIndicator; false elsewhere. */
  combinedService: boolean;
  /** Where the customer goes back to after authorising, when the consent names it (Berlin Group's TPP-Redirect-URI). */
  redirectUri: string | null;
  payment: PaymentTerms | null;
  /** The account to pay from (a payment or VRP: when the TPP named one) or to check funds on. */
  debtorAccount: AccountReference | null;
  risk: Record<string, unknown>;
  /**
   * Domestic VRP only: control parameters and creditor, still in UK OB's shape, with what the mandate is
   * for (sweeping or commercial) and a commercial mandate's merchant in the model's words (vrp/vrp-terms.ts).
   */
  vrp: VrpTerms | null;
}

export interface Consent extends ConsentDraft {
  id: string;
  clientId: string;
  customerId: string | null;
  /** The stored status, except that an Authorised consent past its expiry reads as Expired. */
  status: ConsentStatus;
  selectedAccountIds: string[];
  /** A payment or VRP consent once authorised: the account it pays from (the one selected), by its number. */
  payingAccount: AccountReference | null;
  grantId: string | null;
  /** Why it ended, when the system ended it (e.g. "authorization code reused"); null otherwise. */
  statusReason: string | null;
  /** Who ended a Revoked or Rejected consent (null while it lives, or when its history does not say). */
  endedBy: EndedBy | null;
  statusUpdatedAt: Date;
  createdAt: Date;
  /** When a token of it was last issued or introspected, to the minute (consent-use.ts). */
  lastUsedAt: Date | null;
}

/** The scopes a consent may read, in the order asked. */
export function readScopesOf(consent: Pick<ConsentDraft, 'reads'>): ReadScope[] {
  return consent.reads.map((read) => read.scope);
}

/** Whether two references name the same account (names aside). */
export function sameAccount(a: AccountReference, b: AccountReference): boolean {
  return a.scheme === b.scheme && a.identification === b.identification;
}

export function effectiveStatus(row: Pick<ConsentRow, 'status' | 'expires_at'>, now = new Date()): ConsentStatus {
  return row.status === 'Authorised' && row.expires_at !== null && row.expires_at <= now ? 'Expired' : row.status;
}

export function toConsent(row: ConsentRow, now = new Date()): Consent {
  return {
    id: row.id,
    type: row.type,
    standard: row.standard,
    clientId: row.client_id,
    customerId: row.customer_id,
    status: effectiveStatus(row, now),
    reads: row.access,
    expiresAt: row.expires_at,
    transactionFrom: row.transaction_from,
    transactionTo: row.transaction_to,
    recurring: row.recurring,
    frequencyPerDay: row.frequency_per_day,
    combinedService: row.combined_service,
    redirectUri: row.redirect_uri,
    payment:
      row.instructed_amount === null || row.creditor_account === null
        ? null
        : {
            scheme: row.payment_scheme ?? 'uk_domestic',
            amount: row.instructed_amount,
            currency: row.instructed_currency ?? '',
            creditorAccount: row.creditor_account,
            creditorName: row.creditor_name ?? '',
            reference: row.remittance_reference,
            instructionIdentification: row.instruction_identification,
            endToEndIdentification: row.end_to_end_identification,
            creditorAgent: row.creditor_agent,
            requestedExecutionDate: row.requested_execution_date,
          },
    debtorAccount: row.debtor_account,
    risk: row.risk,
    // Written only from a validated VrpTerms (consent-service.ts draftColumns).
    vrp: row.vrp as VrpTerms | null,
    selectedAccountIds: row.selected_account_ids,
    payingAccount: row.paying_account,
    grantId: row.grant_id,
    statusReason: row.status_reason,
    endedBy: row.ended_by,
    statusUpdatedAt: row.status_updated_at,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

import type { Consent, ConsentDraft } from '../consents/consent.ts';
import type {
  AccountReference as NeutralAccountReference,
  ConsentStandard,
  ConsentStatus,
  EndedBy,
  PaymentScheme as NeutralPaymentScheme,
  ReadScope,
} from '../protocol/consent-types.ts';

/**
 * The consent model (src/consents/consent.ts) as the Berlin Group mapping reads and writes it: the model's
 * own types, narrowed to what a Berlin Group consent always has, plus what the model does not hold yet (a
 * payment initiation's terms, not mounted). Nothing here speaks the Berlin
 * Group's words.
 */

export type { ConsentStatus, EndedBy, ReadScope };
export type Standard = ConsentStandard;

/**
 * An account as the model names it, with the currency a TPP may add to an IBAN (a multi-currency account
 * under one IBAN): kept in the consent's access jsonb, where the model's readers ignore it.
 */
export type AccountReference = NeutralAccountReference & { currency?: string };

/** One thing that may be read, of which accounts: null means the customer picks them while authorising. */
export interface Read {
  scope: ReadScope;
  accounts: AccountReference[] | null;
}

/** An account access consent to create, as the Berlin Group request asks for it: always an expiry and a frequency. */
export interface AccessConsentDraft extends ConsentDraft {
  type: 'account_access';
  standard: 'berlin_group';
  reads: Read[];
  /** The end of the last bank date the consent is valid on (validUntil included). */
  expiresAt: Date;
  frequencyPerDay: number;
}

/** What the Berlin Group answers of an AIS consent read of the model's Consent. */
export type AccessConsent = Pick<
  Consent,
  'id' | 'status' | 'endedBy' | 'statusUpdatedAt' | 'expiresAt' | 'recurring' | 'frequencyPerDay'
> & {
  reads: Read[];
};

/**
 * How far one authorisation of a consent has come while the consent awaits the customer: started (the
 * redirect flow, or a decoupled one not yet sent), sca_started (the customer's device was asked),
 * customer_authenticated (the customer signed in), lapsed (the device's request expired undecided).
 */
export type AuthorisationStage = 'started' | 'sca_started' | 'customer_authenticated' | 'lapsed';

export interface Authorisation {
  id: string;
  stage: AuthorisationStage;
}

/**
 * A consent with its authorisation sub-resources (the model's consent authorisations,
 * consents/consent-authorisation.ts), as the SCA status answers read it. Whether it was ever authorised
 * is its status: only an authorised consent becomes Revoked, Expired or Consumed.
 */
export interface ConsentState {
  id: string;
  standard: Standard;
  status: ConsentStatus;
  /** Set when status is Revoked or Rejected. */
  endedBy: EndedBy | null;
  /** When the status last changed (lastActionDate). */
  statusUpdatedAt: Date;
  /** The authorisations started for it, oldest first (the Berlin Group sub-resources). */
  authorisations: Authorisation[];
}

/** The SEPA schemes a Berlin Group payment product names. */
export type PaymentScheme = Exclude<NeutralPaymentScheme, 'uk_domestic'>;

/**
 * A single payment to initiate (not mounted yet: the integration maps it onto the model's PaymentTerms and
 * debtorAccount when the payment rows are served). Amounts are exact decimal strings.
 */
export interface PaymentConsentDraft {
  standard: 'berlin_group';
  scheme: PaymentScheme;
  amount: { amount: string; currency: string };
  debtor: AccountReference;
  creditor: AccountReference & { name: string };
  /** The creditor's bank (BIC), when given. */
  creditorAgent: string | null;
  endToEndIdentification: string | null;
  remittanceInformation: string | null;
  /** A future-dated payment's bank date. */
  requestedExecutionDate: string | null;
  redirectUri: string | null;
}

export interface PaymentConsent extends ConsentState, Omit<PaymentConsentDraft, 'standard'> {}

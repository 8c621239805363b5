import type { Consent, ConsentDraft, PaymentTerms } from '../consents/consent.ts';
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
 * own types, narrowed to what a Berlin Group consent always has, plus what the model does not hold yet (the
 * authorisation sub-resources). Nothing here speaks the Berlin Group's words.
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

/** A SEPA payment's terms: the model's, in EUR, with no instruction id (the Berlin Group's request has none). */
export interface SepaPaymentTerms extends PaymentTerms {
  scheme: PaymentScheme;
  instructionIdentification: null;
}

/**
 * A single payment to initiate, as the Berlin Group request asks for it: a domestic_payment consent of the
 * model (made once, so not recurring), its terms a SEPA scheme's, paid from the debtor account the TPP named.
 * Amounts are exact decimal strings.
 */
export interface PaymentConsentDraft extends ConsentDraft {
  type: 'domestic_payment';
  standard: 'berlin_group';
  payment: SepaPaymentTerms;
  debtorAccount: AccountReference;
}

/** What the Berlin Group answers of a payment, read of the model's Consent. */
export type PaymentConsent = Pick<Consent, 'id' | 'status' | 'endedBy'> & {
  payment: PaymentTerms;
  debtorAccount: AccountReference | null;
};

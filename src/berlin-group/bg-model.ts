/**
 * The standard-neutral consent model as the Berlin Group mapping sees it: a small local mirror of the terms
 * the consents domain is being given in parallel (issue 28), so that the mapping (bg-consent-mapping.ts,
 * bg-payment-mapping.ts) compiles and is tested now, and the integration adapts this one file to the
 * domain's own types (or replaces it with imports of them). Nothing here speaks the Berlin Group's words.
 */

/** What may be read. A Berlin Group consent asks for these; UK permissions map onto the same words. */
export type ReadScope =
  'accounts.basic' | 'accounts.detail' | 'balances' | 'transactions.detail' | 'transactions.credits' | 'transactions.debits';

export type AccountScheme = 'iban' | 'sort_code_account_number';

export interface AccountReference {
  scheme: AccountScheme;
  identification: string;
  name?: string;
  /**
   * The account's currency, when the TPP named one (a multi-currency account under one IBAN). Not in the
   * neutral spec as written: the integration keeps it there or accepts that GET answers without it.
   */
  currency?: string;
}

/** One thing that may be read, of which accounts: null means the customer picks them while authorising. */
export interface Read {
  scope: ReadScope;
  accounts: AccountReference[] | null;
}

export type Standard = 'uk_ob_v3' | 'berlin_group';

/** The domain's own lifecycle words (UK OB's, kept). */
export type ConsentStatus = 'AwaitingAuthorisation' | 'Authorised' | 'Rejected' | 'Revoked' | 'Expired' | 'Consumed';

/** Who ended a consent that was revoked. */
export type EndedBy = 'customer' | 'tpp' | 'bank';

/** An account access consent to create, as the Berlin Group request asks for it. */
export interface AccessConsentDraft {
  standard: 'berlin_group';
  reads: Read[];
  /** The end of the last bank date the consent is valid on (validUntil included). */
  expiresAt: Date;
  recurring: boolean;
  frequencyPerDay: number;
  combinedService: boolean;
  /** TPP-Redirect-URI: the authorization for this consent accepts exactly it. */
  redirectUri: string | null;
}

/** How far the customer's authorisation of a consent has come, when one was started. */
export type AuthorisationStage = 'started' | 'sca_started' | 'customer_authenticated';

export interface Authorisation {
  id: string;
  stage: AuthorisationStage;
}

/** What the consents domain holds of a consent, as far as the Berlin Group answers read it. */
export interface ConsentState {
  id: string;
  standard: Standard;
  status: ConsentStatus;
  /** Set when status is Revoked. */
  endedBy: EndedBy | null;
  /** When the status last changed (lastActionDate). */
  statusUpdatedAt: Date;
  /** When the customer authorised it, if ever: an ended consent was authorised or never was. */
  authorisedAt: Date | null;
  /** The authorisations started for it, oldest first (the Berlin Group sub-resources). */
  authorisations: Authorisation[];
}

export interface AccessConsent extends ConsentState, Omit<AccessConsentDraft, 'standard'> {}

/** The SEPA schemes a Berlin Group payment product names. */
export type PaymentScheme = 'sepa_credit_transfer' | 'sepa_instant_credit_transfer';

/** A single payment to initiate: what is paid, from whom, to whom. Amounts are exact decimal strings. */
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

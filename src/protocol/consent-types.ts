/**
 * The facts of the consent model: the consents Assent knows, named as stored; its lifecycle (UK OB's
 * words, which the UK API answers as they are and every other dialect maps to its own); each type's
 * RFC 9396 authorization_details type; the standards, read scopes, payment and account schemes the
 * model is built of. Adding a consent type starts here.
 */
export const CONSENT_TYPES = ['account_access', 'domestic_payment', 'funds_confirmation', 'domestic_vrp'] as const;

export type ConsentType = (typeof CONSENT_TYPES)[number];

export const CONSENT_STATUSES = ['AwaitingAuthorisation', 'Authorised', 'Rejected', 'Revoked', 'Expired', 'Consumed'] as const;

export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

/** The authorization_details `type` that carries each consent type in an authorization request. */
export const DETAILS_TYPE_OF: Record<ConsentType, string> = {
  account_access: 'account_information',
  domestic_payment: 'payment_initiation',
  funds_confirmation: 'funds_confirmation',
  domestic_vrp: 'domestic_vrp',
};

export const AUTHORIZATION_DETAILS_TYPES: Record<string, ConsentType> = Object.fromEntries(
  CONSENT_TYPES.map((type) => [DETAILS_TYPE_OF[type], type]),
);

/** The UK OB id token claim that names the consent an authorization request binds. */
export const INTENT_CLAIM = 'openbanking_intent_id';

/**
 * The dialect a consent was created in; each maps it in and out of the one model (docs/architecture.md).
 * UK OB v3.1 and v4.0 are two: a consent remembers which version created it, and either version reads
 * and deletes it (docs/uk-ob-v4.md).
 */
export const CONSENT_STANDARDS = ['uk_ob_v3', 'uk_ob_v4', 'berlin_group'] as const;

export type ConsentStandard = (typeof CONSENT_STANDARDS)[number];

/** The UK Open Banking versions among the standards: one consent resource, served in both. */
export const UK_STANDARDS = ['uk_ob_v3', 'uk_ob_v4'] as const satisfies readonly ConsentStandard[];

export type UkStandard = (typeof UK_STANDARDS)[number];

/** Who ended a Revoked or Rejected consent: the customer, the TPP, or the bank (an operator, an incident, the system). */
export const ENDED_BY = ['customer', 'tpp', 'bank'] as const;

export type EndedBy = (typeof ENDED_BY)[number];

/**
 * What a consent may read: `dataset.level`, the model's own words. One-to-one with the UK OB v3.1
 * permissions (uk-ob-v3/permissions.ts maps them); Berlin Group's accounts, balances and transactions
 * are `accounts.detail`, `balances` and `transactions.*`.
 */
export const READ_SCOPES = [
  'accounts.basic',
  'accounts.detail',
  'balances',
  'beneficiaries.basic',
  'beneficiaries.detail',
  'direct_debits',
  'offers',
  'pan',
  'party',
  'party_psu',
  'products',
  'scheduled_payments.basic',
  'scheduled_payments.detail',
  'standing_orders.basic',
  'standing_orders.detail',
  'statements.basic',
  'statements.detail',
  'transactions.basic',
  'transactions.credits',
  'transactions.debits',
  'transactions.detail',
] as const;

export type ReadScope = (typeof READ_SCOPES)[number];

/** How a payment moves: a UK domestic payment (Faster Payments), a SEPA credit transfer, or an instant one. */
export const PAYMENT_SCHEMES = ['uk_domestic', 'sepa_credit_transfer', 'sepa_instant_credit_transfer'] as const;

export type PaymentScheme = (typeof PAYMENT_SCHEMES)[number];

/** How an account is named, whatever the standard: the schemes the dialects map to and from. */
export const ACCOUNT_REFERENCE_SCHEMES = ['iban', 'sort_code_account', 'bban', 'pan', 'masked_pan', 'msisdn'] as const;

export type AccountReferenceScheme = (typeof ACCOUNT_REFERENCE_SCHEMES)[number];

/** An account as a consent names it (a payee, the account to pay from or to check funds on, an account to read). */
export interface AccountReference {
  scheme: AccountReferenceScheme;
  identification: string;
  name?: string;
  secondaryIdentification?: string;
}

/** What may be read, and of which accounts: null for the accounts the customer chooses while authorising. */
export interface ReadAccess {
  scope: ReadScope;
  accounts: AccountReference[] | null;
}

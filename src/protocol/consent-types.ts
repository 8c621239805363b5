/**
 * The consents Assent knows, named as stored; the UK OB v3.1 status names; and each type's RFC 9396
 * authorization_details type. Adding a consent type starts here.
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

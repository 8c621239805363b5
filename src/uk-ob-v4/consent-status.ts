import type { ConsentStatus } from '../protocol/consent-types.ts';

/**
 * The model's statuses (UK OB v3.1's words) in v4.0's: OBInternalConsentStatus1Code of
 * OpenBankingUK/External_Internal_CodeSets (AWAU "Awaiting Authorisation", RJCT "Rejected", AUTH
 * "Authorised", CANC "Cancelled: the access has been cancelled at the ASPSP by either the PSU or the
 * ASPSP", EXPD "Expired", COND "Consumed"). AWUP (awaiting a file upload) has no consent here. The
 * mapping is one-to-one, so a consent read through either version tells the same story.
 */
export const V4_STATUS_OF = {
  AwaitingAuthorisation: 'AWAU',
  Authorised: 'AUTH',
  Rejected: 'RJCT',
  Revoked: 'CANC',
  Expired: 'EXPD',
  Consumed: 'COND',
} as const satisfies Record<ConsentStatus, string>;

export type V4ConsentStatus = (typeof V4_STATUS_OF)[ConsentStatus];

export const V4_CONSENT_STATUSES = Object.values(V4_STATUS_OF) as [V4ConsentStatus, ...V4ConsentStatus[]];

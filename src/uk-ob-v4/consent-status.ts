import type { ConsentStatus, ConsentType } from '../protocol/consent-types.ts';

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

/**
 * A payment consent's statuses in v4.0: OBWriteDomesticConsentResponse5 allows only
 * `"enum": ["AWAU", "RJCT", "AUTH", "COND"]` (v4.0.1 names the list OBInternalConsentStatus2Code), so
 * the model's Revoked and Expired, which have no code there, read as RJCT, with the reason in
 * `StatusReason`: domestic-payment-consents.md v4.0, "If the ASPSP establishes a problem with the
 * domestic-payment-consent after the API call, the ASPSP must set the Status of the
 * domestic-payment-consent resource to 'RJCT' (Rejected)" and "Changes to the Status, such as being
 * rejected, should be captured in `StatusReason`". The reason codes are OBExternalStatusReason1Code's:
 * `TKXP` for an expired consent, as the Read/Write Data API Profile asks ("The consent has expired
 * ... `StatusReasonCode` must be `TKXP`"), and `DS02` ("OrderCancelled: An authorized user has
 * cancelled the order") for a revoked one.
 */
export const V4_PAYMENT_STATUS_OF = {
  AwaitingAuthorisation: { status: 'AWAU' },
  Authorised: { status: 'AUTH' },
  Rejected: { status: 'RJCT' },
  Revoked: { status: 'RJCT', reasonCode: 'DS02' },
  Expired: { status: 'RJCT', reasonCode: 'TKXP' },
  Consumed: { status: 'COND' },
} as const satisfies Record<ConsentStatus, { status: V4ConsentStatus; reasonCode?: string }>;

export const V4_PAYMENT_CONSENT_STATUSES = ['AWAU', 'RJCT', 'AUTH', 'COND'] as const;

/**
 * A domestic VRP consent's statuses in v4.0: OBDomesticVRPConsentResponse's `"enum": ["AWAU", "RJCT",
 * "AUTH", "CANC", "EXPD"]`; domestic-vrp-consents.md v4.0: "The state model for the VRP consents resource
 * follows the generic consent state model. However, it does not use the `COND` Status." The model never
 * consumes a VRP consent, so each of its statuses reads as V4_STATUS_OF says.
 */
export const V4_VRP_CONSENT_STATUSES = ['AWAU', 'RJCT', 'AUTH', 'CANC', 'EXPD'] as const satisfies readonly V4ConsentStatus[];

/** The v4.0 code a consent's GET shows: a payment consent's own four (a revoked or expired one RJCT), every other type's six. */
export function v4StatusOf(type: ConsentType, status: ConsentStatus): V4ConsentStatus {
  return type === 'domestic_payment' ? V4_PAYMENT_STATUS_OF[status].status : V4_STATUS_OF[status];
}

import { z } from 'zod';
import type { Consent } from '../consent.ts';
import { V4_CONSENT_STATUSES, V4_STATUS_OF } from '../../uk-ob-v4/consent-status.ts';
import { OB_V4_ERROR_CODES } from '../../uk-ob-v4/ob-v4-errors.ts';
import { accountAccessBody, accountAccessResponse, fundsConfirmationBody, fundsConfirmationResponse, links, meta } from './ob-responses.ts';

/**
 * The v4.0 consent API's response bodies, as v3.1's (ob-responses.ts) in v4.0's words: the zod schemas
 * are the contract the OpenAPI document is generated from. A consent reads the same whichever version
 * created it, as the v4.0 Account and Transaction API Profile asks ("Release Management": "An ASPSP
 * **must** ensure Permissions set associated with a Consent are unchanged when accessed in a different
 * version" and "**must** ensure a Consent's fields are representative of the version being accessed.
 * e.g. using v4 fields and enums when accessing a consent create don 3.1 on v4.0 endpoints").
 */

/** OBReadConsentResponse1 of v4.0: v3.1's with OBInternalConsentStatus1Code and the empty OBRisk2. */
export const accountAccessResponseV4 = z.object({
  Data: accountAccessResponse.shape.Data.extend({ Status: z.enum(V4_CONSENT_STATUSES) }),
  Risk: z.strictObject({}),
  Links: links,
  Meta: meta,
});

/** OBFundsConfirmationConsentResponse1 of v4.0: v3.1's with OBInternalConsentStatus1Code. */
export const fundsConfirmationResponseV4 = fundsConfirmationResponse.extend({
  Data: fundsConfirmationResponse.shape.Data.extend({ Status: z.enum(V4_CONSENT_STATUSES) }),
});

/** OBErrorResponse1 of v4.0 (uk-ob-v4/ob-v4-errors.ts writes it). */
export const obV4ErrorResponse = z.object({
  Id: z.string(),
  Errors: z
    .array(
      z.object({
        ErrorCode: z.enum(Object.values(OB_V4_ERROR_CODES) as [string, ...string[]]),
        Message: z.string(),
        Path: z.string().optional(),
      }),
    )
    .min(1),
});

/**
 * A v3.1 consent's Risk may hold fields v3.1 let through; v4.0's OBRisk2 has none
 * ("additionalProperties": false), so it reads as `{}` here and keeps what it holds for v3.1.
 */
export function accountAccessBodyV4(consent: Consent, self: string): z.infer<typeof accountAccessResponseV4> {
  const v3 = accountAccessBody(consent, self);
  return { ...v3, Data: { ...v3.Data, Status: V4_STATUS_OF[consent.status] }, Risk: {} };
}

export function fundsConfirmationBodyV4(consent: Consent, self: string): z.infer<typeof fundsConfirmationResponseV4> {
  const v3 = fundsConfirmationBody(consent, self);
  return { ...v3, Data: { ...v3.Data, Status: V4_STATUS_OF[consent.status] } };
}

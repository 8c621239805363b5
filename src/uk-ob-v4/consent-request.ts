import { z } from 'zod';
import type { UkObV4ConsentType } from '../protocol/routes.ts';
import {
  accountAccessRequest,
  fundsConfirmationRequest,
  type ParsedConsentRequest,
  parseConsentRequest,
} from '../uk-ob-v3/consent-request.ts';
import { problem, toProblems } from '../uk-ob-v3/request-fields.ts';
import { domesticPaymentDraftV4, domesticPaymentRequestV4 } from './payment-request.ts';
import { domesticVrpDraftV4, domesticVrpRequestV4 } from './vrp-request.ts';

/**
 * UK OB v4.0 consent requests into the model. Where v4.0 kept v3.1's shape the v3.1 validators decide
 * (uk-ob-v3/): the permissions (OBInternalPermissions1Code holds the same 21 codes, with the same
 * transaction rules) and the date-times are unchanged. What differs is validated here first, then the
 * v3.1 mapping makes the draft, filed as created in v4.0.
 */

/**
 * OBRisk2, the account-access Risk of v4.0's account-info-openapi (read-write-api-specs v4.0 Update 4):
 * `"type": "object", "additionalProperties": false, "properties": {}`, and OBReadConsent1 now lists
 * `"required": ["Data", "Risk"]` ("Risk 1..1", account-access-consents.md v4.0). So `{}` and nothing
 * else; v3.1 let it be left out.
 */
const obRisk2 = z.record(z.string(), z.unknown()).superRefine((risk, ctx) => {
  for (const key of Object.keys(risk))
    problem(ctx, 'UK.OBIE.Field.Unexpected', `Risk has no fields in UK OB v4.0 account access (OBRisk2); ${key} is not one`, [key]);
});

/** OBReadConsent1 of v4.0. */
export const accountAccessRequestV4 = accountAccessRequest.safeExtend({ Risk: obRisk2 });

/**
 * The request of each consent type served in v4.0 (protocol/routes.ts UK_OB_V4_CONSENT_TYPES). v4.0's
 * OBFundsConfirmationConsent1 (confirmation-funds-openapi) is v3.1's: `Data` with a required
 * `DebtorAccount` and an optional `ExpirationDateTime`, no `Risk`; the `DebtorAccount.Proxy` it added is
 * ignored like any field Assent does not read, the account being named by SchemeName and Identification.
 */
export const V4_REQUESTS: Record<UkObV4ConsentType, z.ZodType> = {
  account_access: accountAccessRequestV4,
  funds_confirmation: fundsConfirmationRequest,
  domestic_payment: domesticPaymentRequestV4,
  domestic_vrp: domesticVrpRequestV4,
};

/** Parses a v4.0 consent request body into a draft created in v4.0, or every problem with it (v3.1's codes, written in v4.0's by ob-v4-errors.ts). */
export function parseV4ConsentRequest(type: UkObV4ConsentType, body: unknown): ParsedConsentRequest {
  // v4.0 rewrote the payment's and the VRP's shapes, so they have their own mappings (payment-request.ts,
  // vrp-request.ts); the other two keep v3.1's.
  if (type === 'domestic_payment') {
    const payment = domesticPaymentRequestV4.safeParse(body, { reportInput: true });
    return payment.success ? { ok: true, draft: domesticPaymentDraftV4(payment.data) } : { ok: false, problems: toProblems(payment.error) };
  }
  if (type === 'domestic_vrp') {
    const vrp = domesticVrpRequestV4.safeParse(body, { reportInput: true });
    return vrp.success ? { ok: true, draft: domesticVrpDraftV4(vrp.data) } : { ok: false, problems: toProblems(vrp.error) };
  }
  const parsed = V4_REQUESTS[type].safeParse(body, { reportInput: true });
  if (!parsed.success) return { ok: false, problems: toProblems(parsed.error) };
  return parseConsentRequest(type, parsed.data, 'uk_ob_v4');
}

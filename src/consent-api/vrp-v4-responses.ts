import { z } from 'zod';
import type { Consent } from '../consents/consent.ts';
import { ukDebtorAccount } from '../uk-ob-v3/consent-out.ts';
import { V4_STATUS_OF, V4_VRP_CONSENT_STATUSES } from '../uk-ob-v4/consent-status.ts';
import { obRisk1V4 } from '../uk-ob-v4/payment-request.ts';
import { riskV4Of } from './ob-v4-responses.ts';
import { account, commonData, dateTime, links, meta } from './ob-responses.ts';
import { domesticVrpResponse } from './vrp-responses.ts';

/**
 * OBDomesticVRPConsentResponse of v4.0 (vrp-openapi.json, read-write-api-specs v4.0 Update 4), as far as
 * the model holds it: v3.1's control parameters (unchanged in v4.0), the five VRP consent statuses, the
 * reference and unstructured line in ISO 20022's OBRemittanceInformation2, and v4.0's OBRisk1. A consent
 * reads so whichever version created it ("using v4 fields and enums when accessing a consent created on
 * 3.1 on v4.0 endpoints", Account and Transaction API Profile v4.0, "Release Management").
 */
export const domesticVrpResponseV4 = z.object({
  Data: z.object({
    ConsentId: z.string(),
    CreationDateTime: dateTime,
    Status: z.enum(V4_VRP_CONSENT_STATUSES),
    StatusReason: z.array(z.object({ StatusReasonDescription: z.string() })).optional(),
    StatusUpdateDateTime: dateTime,
    ReadRefundAccount: z.enum(['Yes', 'No']).optional(),
    ControlParameters: domesticVrpResponse.shape.Data.shape.ControlParameters,
    Initiation: z.object({
      DebtorAccount: account.optional(),
      CreditorAccount: account,
      RemittanceInformation: z
        .object({
          Structured: z.array(z.object({ CreditorReferenceInformation: z.object({ Reference: z.string() }) })).optional(),
          Unstructured: z.array(z.string()).optional(),
        })
        .optional(),
    }),
  }),
  Risk: obRisk1V4,
  Links: links,
  Meta: meta,
});

/** A VRP consent's remittance (held in v3.1's words, `Reference` and `Unstructured`) in v4.0's OBRemittanceInformation2. */
function remittanceV4(remittance: { Reference?: string; Unstructured?: string } | undefined) {
  if (remittance?.Reference === undefined && remittance?.Unstructured === undefined) return undefined;
  return {
    ...(remittance.Reference !== undefined && { Structured: [{ CreditorReferenceInformation: { Reference: remittance.Reference } }] }),
    ...(remittance.Unstructured !== undefined && { Unstructured: [remittance.Unstructured] }),
  };
}

export function domesticVrpBodyV4(consent: Consent, self: string): z.infer<typeof domesticVrpResponseV4> {
  const terms = consent.vrp!;
  const { Status: _v3Status, ...common } = commonData(consent);
  const { CreditorAccount, RemittanceInformation } = terms.initiation;
  const remittance = remittanceV4(RemittanceInformation);
  const debtor = ukDebtorAccount(consent);
  return {
    Data: {
      ...common,
      // The model consumes only single payments (consent-repository.ts), so a VRP consent never reads COND.
      Status: V4_STATUS_OF[consent.status] as (typeof V4_VRP_CONSENT_STATUSES)[number],
      ...(terms.readRefundAccount && { ReadRefundAccount: terms.readRefundAccount }),
      ControlParameters: terms.controlParameters,
      Initiation: {
        ...(debtor && { DebtorAccount: debtor }),
        CreditorAccount,
        ...(remittance && { RemittanceInformation: remittance }),
      },
    },
    Risk: riskV4Of(consent),
    Links: { Self: self },
    Meta: { TotalPages: 1 },
  };
}

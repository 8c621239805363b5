import { z } from 'zod';
import type { Consent } from '../consents/consent.ts';
import { V4_CONSENT_STATUSES, V4_PAYMENT_CONSENT_STATUSES, V4_PAYMENT_STATUS_OF, V4_STATUS_OF } from '../uk-ob-v4/consent-status.ts';
import { OB_V4_ERROR_CODES } from '../uk-ob-v4/ob-v4-errors.ts';
import { obRisk1V4 } from '../uk-ob-v4/payment-request.ts';
import { ukCreditorAccount, ukDebtorAccount } from '../uk-ob-v3/consent-out.ts';
import {
  account,
  accountAccessBody,
  accountAccessResponse,
  commonData,
  dateTime,
  domesticPaymentResponse,
  fundsConfirmationBody,
  fundsConfirmationResponse,
  links,
  meta,
} from './ob-responses.ts';

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

/**
 * OBWriteDomesticConsentResponse5 of v4.0, as far as the model holds it: the four payment-consent
 * statuses, StatusReason with its code, the reference in ISO 20022's Structured remittance, the
 * creditor's bank as a BIC, and OBRisk1 of v4.0.
 */
export const domesticPaymentResponseV4 = z.object({
  Data: z.object({
    ConsentId: z.string(),
    CreationDateTime: dateTime,
    Status: z.enum(V4_PAYMENT_CONSENT_STATUSES),
    StatusReason: z.array(z.object({ StatusReasonCode: z.string().optional(), StatusReasonDescription: z.string().optional() })).optional(),
    StatusUpdateDateTime: dateTime,
    Initiation: z.object({
      ...domesticPaymentResponse.shape.Data.shape.Initiation.shape,
      CreditorAccount: account,
      DebtorAccount: account.optional(),
      CreditorAgent: z.object({ SchemeName: z.literal('UK.OBIE.BICFI'), Identification: z.string() }).optional(),
      RemittanceInformation: z
        .object({ Structured: z.array(z.object({ CreditorReferenceInformation: z.object({ Reference: z.string() }) })) })
        .optional(),
    }),
  }),
  Risk: obRisk1V4,
  Links: links,
  Meta: meta,
});

/**
 * A payment consent's Risk in v4.0. One created in v4.0 holds v4.0's OBRisk1 already. One created in
 * v3.1 keeps each field v4.0's OBRisk1 defines with a value v4.0 accepts, and leaves the rest out of
 * v4.0's answer (v3.1 still shows them): so a PaymentContextCode v4.0 kept (`TransferToThirdParty`, ...)
 * reads the same, while `PispPayee` and the codes v3.1.11 had deprecated (`BillPayment`,
 * `EcommerceGoods`, `EcommerceServices`, `Other`, `PartyToParty`) have no v4.0 code and the standard
 * names none to map them to, so v4.0 shows no PaymentContextCode rather than a guessed one. v3.1's
 * `ContractPresentInidicator` is v4.0's `ContractPresentIndicator` ("`ContractPresentIndicator` typo
 * fixed", version-control v4.0.0; domestic-vrp-consents.md v4.0 migrates it so in its PATCH example), the
 * same fact under its corrected name.
 */
export function riskV4Of(consent: Consent): z.infer<typeof obRisk1V4> {
  if (consent.standard === 'uk_ob_v4') return consent.risk;
  const { ContractPresentInidicator: contract, ...rest } = consent.risk;
  const risk: Record<string, unknown> = contract === undefined ? rest : { ContractPresentIndicator: contract, ...rest };
  const kept = Object.entries(obRisk1V4.shape).flatMap(([field, schema]) =>
    field in risk && schema.safeParse(risk[field]).success ? [[field, risk[field]]] : [],
  );
  return Object.fromEntries(kept);
}

export function domesticPaymentBodyV4(consent: Consent, self: string): z.infer<typeof domesticPaymentResponseV4> {
  const payment = consent.payment!;
  const { status, ...reason } = V4_PAYMENT_STATUS_OF[consent.status];
  const description = consent.statusReason ?? undefined;
  const { Status: _v3Status, StatusReason: _v3Reason, ...common } = commonData(consent);
  return {
    Data: {
      ...common,
      Status: status,
      ...(('reasonCode' in reason || description !== undefined) && {
        StatusReason: [
          {
            ...('reasonCode' in reason && { StatusReasonCode: reason.reasonCode }),
            ...(description !== undefined && { StatusReasonDescription: description }),
          },
        ],
      }),
      Initiation: {
        // Both are required of a UK payment (OBDomestic2), so a UK consent always has them.
        InstructionIdentification: payment.instructionIdentification ?? '',
        EndToEndIdentification: payment.endToEndIdentification ?? '',
        InstructedAmount: { Amount: payment.amount, Currency: payment.currency },
        CreditorAccount: ukCreditorAccount(payment),
        DebtorAccount: ukDebtorAccount(consent) ?? undefined,
        ...(payment.creditorAgent !== null && {
          CreditorAgent: { SchemeName: 'UK.OBIE.BICFI' as const, Identification: payment.creditorAgent },
        }),
        ...(payment.reference !== null && {
          RemittanceInformation: { Structured: [{ CreditorReferenceInformation: { Reference: payment.reference } }] },
        }),
      },
    },
    Risk: riskV4Of(consent),
    Links: { Self: self },
    Meta: { TotalPages: 1 },
  };
}

import { z } from 'zod';
import type { Consent } from '../consents/consent.ts';
import { CONSENT_STATUSES } from '../consents/consent-status.ts';
import { ukCreditorAccount, ukDebtorAccount, ukPermissions } from '../uk-ob-v3/consent-out.ts';
import { OB_PERMISSIONS } from '../uk-ob-v3/permissions.ts';

/**
 * The consent API's response bodies: the zod schemas are the contract (the OpenAPI document is
 * generated from them) and the functions below build bodies of exactly these types, from the model
 * through the UK OB v3.1 mapping (uk-ob-v3/consent-out.ts).
 */

export const dateTime = z.iso.datetime({ offset: true });
export const account = z.object({
  SchemeName: z.string(),
  Identification: z.string(),
  Name: z.string().optional(),
  SecondaryIdentification: z.string().optional(),
});
export const links = z.object({ Self: z.url() });
export const meta = z.object({ TotalPages: z.int() });
export const common = {
  ConsentId: z.string(),
  CreationDateTime: dateTime,
  Status: z.enum(CONSENT_STATUSES),
  StatusUpdateDateTime: dateTime,
  /** Why the consent ended when neither the customer nor the TPP ended it (UK OB v4 shape). */
  StatusReason: z.array(z.object({ StatusReasonDescription: z.string() })).optional(),
};

export const accountAccessResponse = z.object({
  Data: z.object({
    ...common,
    Permissions: z.array(z.enum(OB_PERMISSIONS)),
    ExpirationDateTime: dateTime.optional(),
    TransactionFromDateTime: dateTime.optional(),
    TransactionToDateTime: dateTime.optional(),
  }),
  Risk: z.record(z.string(), z.unknown()),
  Links: links,
  Meta: meta,
});

export const domesticPaymentResponse = z.object({
  Data: z.object({
    ...common,
    Initiation: z.object({
      InstructionIdentification: z.string(),
      EndToEndIdentification: z.string(),
      InstructedAmount: z.object({ Amount: z.string().regex(/^\d{1,13}\.\d{2}$/), Currency: z.string().regex(/^[A-Z]{3}$/) }),
      CreditorAccount: account,
      DebtorAccount: account.optional(),
      RemittanceInformation: z.object({ Reference: z.string() }).optional(),
    }),
  }),
  Risk: z.record(z.string(), z.unknown()),
  Links: links,
  Meta: meta,
});

export const fundsConfirmationResponse = z.object({
  Data: z.object({ ...common, ExpirationDateTime: dateTime.optional(), DebtorAccount: account }),
  Links: links,
  Meta: meta,
});

export const obErrorResponse = z.object({
  Code: z.string(),
  Id: z.string(),
  Message: z.string(),
  Errors: z.array(z.object({ ErrorCode: z.string().regex(/^UK\.OBIE\./), Message: z.string(), Path: z.string().optional() })).min(1),
});

const iso = (date: Date | null) => (date === null ? undefined : date.toISOString());

export function commonData(consent: Consent) {
  return {
    ConsentId: consent.id,
    CreationDateTime: consent.createdAt.toISOString(),
    Status: consent.status,
    StatusUpdateDateTime: consent.statusUpdatedAt.toISOString(),
    ...(consent.statusReason !== null && { StatusReason: [{ StatusReasonDescription: consent.statusReason }] }),
  };
}

export function accountAccessBody(consent: Consent, self: string): z.infer<typeof accountAccessResponse> {
  return {
    Data: {
      ...commonData(consent),
      Permissions: ukPermissions(consent),
      ExpirationDateTime: iso(consent.expiresAt),
      TransactionFromDateTime: iso(consent.transactionFrom),
      TransactionToDateTime: iso(consent.transactionTo),
    },
    Risk: consent.risk,
    Links: { Self: self },
    Meta: { TotalPages: 1 },
  };
}

export function domesticPaymentBody(consent: Consent, self: string): z.infer<typeof domesticPaymentResponse> {
  const payment = consent.payment!;
  return {
    Data: {
      ...commonData(consent),
      Initiation: {
        // Both are required of a UK payment (OBDomestic2), so a UK consent always has them; only a SEPA
        // payment's model may lack them.
        InstructionIdentification: payment.instructionIdentification ?? '',
        EndToEndIdentification: payment.endToEndIdentification ?? '',
        InstructedAmount: { Amount: payment.amount, Currency: payment.currency },
        CreditorAccount: ukCreditorAccount(payment),
        DebtorAccount: ukDebtorAccount(consent) ?? undefined,
        RemittanceInformation: payment.reference === null ? undefined : { Reference: payment.reference },
      },
    },
    Risk: consent.risk,
    Links: { Self: self },
    Meta: { TotalPages: 1 },
  };
}

export function fundsConfirmationBody(consent: Consent, self: string): z.infer<typeof fundsConfirmationResponse> {
  return {
    Data: { ...commonData(consent), ExpirationDateTime: iso(consent.expiresAt), DebtorAccount: ukDebtorAccount(consent)! },
    Links: { Self: self },
    Meta: { TotalPages: 1 },
  };
}

import { z } from 'zod';
import type { ConsentDraft, ConsentType } from '../consents/consent.ts';
import type { UkStandard } from '../protocol/consent-types.ts';
import type { ObProblem } from '../protocol/ob-error-codes.ts';
import { fromObAccount } from './account-references.ts';
import { OB_PERMISSIONS, type ObPermission, permissionSetProblem, readsOfPermissions } from './permissions.ts';
import { dateTime, obAccount, obAmount, problem, text, toProblems } from './request-fields.ts';
import { domesticVrpRequest, vrpDraftOf } from './vrp-request.ts';

/**
 * UK OB v3.1 into the model: validation of consent requests in UK OB v3.1 shape (`Data` + `Risk`),
 * shared by the consent API and by `authorization_details`, and the ConsentDraft each one becomes.
 * Every rule names the UK.OBIE code it fails with.
 */

const expiryInFuture = (value: string | undefined, ctx: z.RefinementCtx, path: PropertyKey[]) => {
  if (value !== undefined && Date.parse(value) <= Date.now())
    problem(ctx, 'UK.OBIE.Field.InvalidDate', 'ExpirationDateTime must be in the future', path);
};

export const accountAccessRequest = z.object({
  Data: z
    .object({
      Permissions: z.array(z.enum(OB_PERMISSIONS, { error: 'not a UK Open Banking permission' })).min(1),
      ExpirationDateTime: dateTime.optional(),
      TransactionFromDateTime: dateTime.optional(),
      TransactionToDateTime: dateTime.optional(),
    })
    .superRefine((data, ctx) => {
      const setProblem = permissionSetProblem(data.Permissions);
      if (setProblem) problem(ctx, 'UK.OBIE.Field.Invalid', setProblem, ['Permissions']);
      expiryInFuture(data.ExpirationDateTime, ctx, ['ExpirationDateTime']);
      if (
        data.TransactionFromDateTime &&
        data.TransactionToDateTime &&
        Date.parse(data.TransactionFromDateTime) > Date.parse(data.TransactionToDateTime)
      ) {
        problem(ctx, 'UK.OBIE.Field.InvalidDate', 'TransactionFromDateTime must not be after TransactionToDateTime', [
          'TransactionFromDateTime',
        ]);
      }
    }),
  Risk: z.record(z.string(), z.unknown()).optional(),
});

export const domesticPaymentRequest = z.object({
  Data: z.object({
    Initiation: z.object({
      InstructionIdentification: text(35),
      EndToEndIdentification: text(35),
      InstructedAmount: obAmount,
      CreditorAccount: obAccount.safeExtend({ Name: text(70) }),
      DebtorAccount: obAccount.optional(),
      RemittanceInformation: z.object({ Reference: text(35).optional(), Unstructured: text(140).optional() }).optional(),
    }),
  }),
  Risk: z.record(z.string(), z.unknown()),
});

export const fundsConfirmationRequest = z.object({
  Data: z
    .object({ DebtorAccount: obAccount, ExpirationDateTime: dateTime.optional() })
    .superRefine((data, ctx) => expiryInFuture(data.ExpirationDateTime, ctx, ['ExpirationDateTime'])),
});

const date = (value: string | undefined) => (value === undefined ? null : new Date(value));

/** What every UK consent is: created in UK OB v3.1 (unless v4.0 parsed it first), read again and again, no daily limit, no redirect URI of its own. */
export const BLANK: Omit<ConsentDraft, 'type'> = {
  standard: 'uk_ob_v3',
  reads: [],
  recurring: true,
  frequencyPerDay: null,
  combinedService: false,
  redirectUri: null,
  expiresAt: null,
  transactionFrom: null,
  transactionTo: null,
  payment: null,
  debtorAccount: null,
  risk: {},
  vrp: null,
};

export type ParsedConsentRequest = { ok: true; draft: ConsentDraft } | { ok: false; problems: ObProblem[] };

/**
 * Parses a consent request body of the given type into a draft, or every problem with it. `standard`
 * is the UK version the TPP spoke: v4.0 validates its own differences first (uk-ob-v4/consent-request.ts)
 * and hands the body, the same shape, to this mapping.
 */
export function parseConsentRequest(type: ConsentType, body: unknown, standard: UkStandard = 'uk_ob_v3'): ParsedConsentRequest {
  const parsed = parseV3ConsentRequest(type, body);
  return parsed.ok ? { ok: true, draft: { ...parsed.draft, standard } } : parsed;
}

function parseV3ConsentRequest(type: ConsentType, body: unknown): ParsedConsentRequest {
  const options = { reportInput: true };
  switch (type) {
    case 'account_access': {
      const parsed = accountAccessRequest.safeParse(body, options);
      if (!parsed.success) return { ok: false, problems: toProblems(parsed.error) };
      const { Data, Risk } = parsed.data;
      return {
        ok: true,
        draft: {
          ...BLANK,
          type,
          reads: readsOfPermissions(Data.Permissions as ObPermission[]),
          expiresAt: date(Data.ExpirationDateTime),
          transactionFrom: date(Data.TransactionFromDateTime),
          transactionTo: date(Data.TransactionToDateTime),
          risk: Risk ?? {},
        },
      };
    }
    case 'domestic_payment': {
      const parsed = domesticPaymentRequest.safeParse(body, options);
      if (!parsed.success) return { ok: false, problems: toProblems(parsed.error) };
      const { Initiation } = parsed.data.Data;
      return {
        ok: true,
        draft: {
          ...BLANK,
          type,
          // A single payment is made once.
          recurring: false,
          payment: {
            scheme: 'uk_domestic',
            amount: Initiation.InstructedAmount.Amount,
            currency: Initiation.InstructedAmount.Currency,
            creditorAccount: fromObAccount({ ...Initiation.CreditorAccount, Name: undefined }),
            creditorName: Initiation.CreditorAccount.Name,
            reference: Initiation.RemittanceInformation?.Reference ?? null,
            instructionIdentification: Initiation.InstructionIdentification,
            endToEndIdentification: Initiation.EndToEndIdentification,
            creditorAgent: null,
            requestedExecutionDate: null,
          },
          debtorAccount: Initiation.DebtorAccount ? fromObAccount(Initiation.DebtorAccount) : null,
          risk: parsed.data.Risk,
        },
      };
    }
    case 'funds_confirmation': {
      const parsed = fundsConfirmationRequest.safeParse(body, options);
      if (!parsed.success) return { ok: false, problems: toProblems(parsed.error) };
      const { Data } = parsed.data;
      return {
        ok: true,
        draft: { ...BLANK, type, debtorAccount: fromObAccount(Data.DebtorAccount), expiresAt: date(Data.ExpirationDateTime) },
      };
    }
    case 'domestic_vrp': {
      const parsed = domesticVrpRequest.safeParse(body, options);
      if (!parsed.success) return { ok: false, problems: toProblems(parsed.error) };
      return { ok: true, draft: { ...BLANK, type, ...vrpDraftOf(parsed.data) } };
    }
  }
}

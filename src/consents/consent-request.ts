import { z } from 'zod';
import type { ConsentDraft, ConsentType, ObAccountReference } from './consent.ts';
import type { ObErrorCode, ObProblem } from '../protocol/ob-error-codes.ts';
import { OB_PERMISSIONS, type ObPermission, permissionSetProblem } from './permissions.ts';

/**
 * Validation of consent requests in UK OB v3.1 shape (`Data` + `Risk`), shared by the consent API
 * and by `authorization_details`. Every rule names the UK.OBIE code it fails with.
 */

const ISO_CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));
export const ACCOUNT_SCHEMES = ['UK.OBIE.SortCodeAccountNumber', 'UK.OBIE.IBAN'] as const;
const IDENTIFICATION: Record<(typeof ACCOUNT_SCHEMES)[number], RegExp> = {
  'UK.OBIE.SortCodeAccountNumber': /^\d{14}$/,
  'UK.OBIE.IBAN': /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/,
};
/** At most two decimals, and more than zero; checked on the string so no float ever holds it. */
const AMOUNT = /^\d{1,13}(\.\d{1,2})?$/;

function problem(ctx: z.RefinementCtx, code: ObErrorCode, message: string, path: PropertyKey[] = []) {
  ctx.addIssue({ code: 'custom', message, path, params: { obCode: code } });
}

const dateTime = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone' });
const text = (max: number) => z.string().min(1).max(max);

export const obAccount = z
  .object({
    SchemeName: z.enum(ACCOUNT_SCHEMES, { error: `SchemeName must be one of ${ACCOUNT_SCHEMES.join(', ')}` }),
    Identification: text(256),
    Name: text(70).optional(),
    SecondaryIdentification: text(34).optional(),
  })
  .superRefine((account, ctx) => {
    if (!IDENTIFICATION[account.SchemeName].test(account.Identification)) {
      problem(ctx, 'UK.OBIE.Unsupported.AccountIdentifier', `Identification is not a valid ${account.SchemeName}`, ['Identification']);
    }
  });

const expiryInFuture = (value: string | undefined, ctx: z.RefinementCtx, path: PropertyKey[]) => {
  if (value !== undefined && Date.parse(value) <= Date.now()) problem(ctx, 'UK.OBIE.Field.InvalidDate', 'ExpirationDateTime must be in the future', path);
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
      if (data.TransactionFromDateTime && data.TransactionToDateTime && Date.parse(data.TransactionFromDateTime) > Date.parse(data.TransactionToDateTime)) {
        problem(ctx, 'UK.OBIE.Field.InvalidDate', 'TransactionFromDateTime must not be after TransactionToDateTime', ['TransactionFromDateTime']);
      }
    }),
  Risk: z.record(z.string(), z.unknown()).optional(),
});

export const domesticPaymentRequest = z.object({
  Data: z.object({
    Initiation: z.object({
      InstructionIdentification: text(35),
      EndToEndIdentification: text(35),
      InstructedAmount: z
        .object({
          Amount: z.string({ error: 'Amount must be a decimal string' }),
          Currency: z.string().regex(/^[A-Z]{3}$/, 'Currency must be an ISO 4217 code'),
        })
        .superRefine((amount, ctx) => {
          if (!AMOUNT.test(amount.Amount)) problem(ctx, 'UK.OBIE.Field.Invalid', 'Amount must be a decimal with at most two fraction digits', ['Amount']);
          else if (!/[1-9]/.test(amount.Amount)) problem(ctx, 'UK.OBIE.Field.Invalid', 'Amount must be greater than zero', ['Amount']);
          if (/^[A-Z]{3}$/.test(amount.Currency) && !ISO_CURRENCIES.has(amount.Currency)) {
            problem(ctx, 'UK.OBIE.Unsupported.Currency', `${amount.Currency} is not a supported ISO 4217 currency`, ['Currency']);
          }
        }),
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

function pathOf(path: PropertyKey[]): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`)).join('');
}

function codeOf(issue: z.core.$ZodIssue): ObErrorCode {
  if (issue.code === 'custom' && issue.params?.obCode) return issue.params.obCode as ObErrorCode;
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'UK.OBIE.Field.Missing';
  if (issue.code === 'invalid_format' && issue.format === 'datetime') return 'UK.OBIE.Field.InvalidDate';
  if (issue.path.at(-1) === 'SchemeName') return 'UK.OBIE.Unsupported.Scheme';
  return 'UK.OBIE.Field.Invalid';
}

function toProblems(error: z.ZodError): ObProblem[] {
  return error.issues.map((issue) => ({
    code: codeOf(issue),
    message: codeOf(issue) === 'UK.OBIE.Field.Missing' ? `${pathOf(issue.path)} is required` : issue.message,
    path: pathOf(issue.path),
  }));
}

function accountReference(account: ObAccountReference): ObAccountReference {
  const { SchemeName, Identification, Name, SecondaryIdentification } = account;
  return { SchemeName, Identification, ...(Name && { Name }), ...(SecondaryIdentification && { SecondaryIdentification }) };
}

const date = (value: string | undefined) => (value === undefined ? null : new Date(value));

const BLANK: Omit<ConsentDraft, 'type'> = {
  permissions: [],
  expiresAt: null,
  transactionFrom: null,
  transactionTo: null,
  payment: null,
  debtorAccount: null,
  risk: {},
};

export type ParsedConsentRequest = { ok: true; draft: ConsentDraft } | { ok: false; problems: ObProblem[] };

/** Parses a consent request body of the given type into a draft, or every problem with it. */
export function parseConsentRequest(type: ConsentType, body: unknown): ParsedConsentRequest {
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
          permissions: Data.Permissions as ObPermission[],
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
          payment: {
            instructionIdentification: Initiation.InstructionIdentification,
            endToEndIdentification: Initiation.EndToEndIdentification,
            amount: Initiation.InstructedAmount.Amount,
            currency: Initiation.InstructedAmount.Currency,
            creditorAccount: accountReference(Initiation.CreditorAccount),
            reference: Initiation.RemittanceInformation?.Reference ?? null,
          },
          debtorAccount: Initiation.DebtorAccount ? accountReference(Initiation.DebtorAccount) : null,
          risk: parsed.data.Risk,
        },
      };
    }
    case 'funds_confirmation': {
      const parsed = fundsConfirmationRequest.safeParse(body, options);
      if (!parsed.success) return { ok: false, problems: toProblems(parsed.error) };
      const { Data } = parsed.data;
      return { ok: true, draft: { ...BLANK, type, debtorAccount: accountReference(Data.DebtorAccount), expiresAt: date(Data.ExpirationDateTime) } };
    }
  }
}

import { z } from 'zod';
import { INSTANT_RANGE, isPlausibleInstant } from '../protocol/instants.ts';
import { isIsoCurrency } from '../protocol/iso-currencies.ts';
import type { ObErrorCode, ObProblem } from '../protocol/ob-error-codes.ts';
import { ACCOUNT_SCHEMES, type ObAccountScheme } from './account-references.ts';

/**
 * The UK OB v3.1 field types every consent request shares (accounts, amounts, date-times), and the
 * mapping of zod issues to UK.OBIE problems. consent-request.ts and vrp-request.ts build on them.
 */

const IDENTIFICATION: Record<ObAccountScheme, RegExp> = {
  'UK.OBIE.SortCodeAccountNumber': /^\d{14}$/,
  'UK.OBIE.IBAN': /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/,
};
/** At most two decimals, and more than zero; checked on the string so no float ever holds it. */
const AMOUNT = /^\d{1,13}(\.\d{1,2})?$/;

export function problem(ctx: z.RefinementCtx, code: ObErrorCode, message: string, path: PropertyKey[] = []) {
  ctx.addIssue({ code: 'custom', message, path, params: { obCode: code } });
}

export const dateTime = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone', abort: true })
  .refine((value) => isPlausibleInstant(Date.parse(value)), {
    message: `must be ${INSTANT_RANGE}`,
    params: { obCode: 'UK.OBIE.Field.InvalidDate' },
  });
export const text = (max: number) => z.string().min(1).max(max);

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

/** `{Amount, Currency}`: a positive decimal string with at most two fraction digits and an ISO 4217 currency. */
export const obAmount = z
  .object({
    Amount: z.string({ error: 'Amount must be a decimal string' }),
    Currency: z.string().regex(/^[A-Z]{3}$/, 'Currency must be an ISO 4217 code'),
  })
  .superRefine((amount, ctx) => {
    if (!AMOUNT.test(amount.Amount))
      problem(ctx, 'UK.OBIE.Field.Invalid', 'Amount must be a decimal with at most two fraction digits', ['Amount']);
    else if (!/[1-9]/.test(amount.Amount)) problem(ctx, 'UK.OBIE.Field.Invalid', 'Amount must be greater than zero', ['Amount']);
    if (/^[A-Z]{3}$/.test(amount.Currency) && !isIsoCurrency(amount.Currency)) {
      problem(ctx, 'UK.OBIE.Unsupported.Currency', `${amount.Currency} is not a supported ISO 4217 currency`, ['Currency']);
    }
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

export function toProblems(error: z.ZodError): ObProblem[] {
  return error.issues.map((issue) => ({
    code: codeOf(issue),
    message: codeOf(issue) === 'UK.OBIE.Field.Missing' ? `${pathOf(issue.path)} is required` : issue.message,
    path: pathOf(issue.path),
  }));
}

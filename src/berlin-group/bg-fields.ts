import { z } from 'zod';
import { isIsoCurrency } from '../protocol/iso-currencies.ts';
import { BgError, bgMessage, type BgTppMessage } from './bg-error.ts';
import { type BgMessageCode, bgStatusOf } from './bg-errors.ts';

/**
 * The NextGenPSD2 field types the request schemas share (IBANs, currencies, amounts, ISO dates), and the one
 * reading of zod issues as FORMAT_ERROR messages with the faulty field's path. Every schema is strict: a field
 * the guidelines do not define for the request, or of the wrong type, is a FORMAT_ERROR naming it.
 */

/** A zod issue that reads as another code than FORMAT_ERROR carries it here. */
export function bgIssue(ctx: z.RefinementCtx, code: BgMessageCode, message: string, path: PropertyKey[] = []) {
  ctx.addIssue({ code: 'custom', message, path, params: { bgCode: code } });
}

/**
 * IBAN lengths of the SEPA countries (the ECB's and the EPC's register of IBAN formats); an IBAN of another
 * country is checked by its check digits and the general 15 to 34 characters only.
 */
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24,
  AT: 20,
  BE: 16,
  BG: 22,
  CH: 21,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  EE: 20,
  ES: 24,
  FI: 18,
  FR: 27,
  GB: 22,
  GI: 23,
  GR: 27,
  HR: 21,
  HU: 28,
  IE: 22,
  IS: 26,
  IT: 27,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  MC: 27,
  MT: 31,
  NL: 18,
  NO: 15,
  PL: 28,
  PT: 25,
  RO: 24,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  VA: 22,
};

const IBAN_SHAPE = /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/;

/** ISO 13616 check: the IBAN's country and check digits moved to the end, letters as 10..35, mod 97 is 1. */
export function hasValidIbanCheckDigits(iban: string): boolean {
  if (!IBAN_SHAPE.test(iban)) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const value = char >= 'A' ? char.charCodeAt(0) - 55 : char.charCodeAt(0) - 48;
    remainder = (remainder * (value > 9 ? 100 : 10) + value) % 97;
  }
  return remainder === 1;
}

/** An IBAN as the guidelines write it (electronic form: capitals, no spaces), its length and check digits right. */
export const iban = z
  .string({ error: 'iban must be a string' })
  .max(34, 'iban must be at most 34 characters')
  .refine((value) => IBAN_SHAPE.test(value), {
    message: 'iban must be an IBAN in electronic form (capitals and digits, no spaces)',
    abort: true,
  })
  .refine((value) => IBAN_LENGTHS[value.slice(0, 2)] === undefined || IBAN_LENGTHS[value.slice(0, 2)] === value.length, {
    message: 'iban has the wrong length for its country',
    abort: true,
  })
  .refine(hasValidIbanCheckDigits, 'iban check digits are wrong');

export const currencyCode = z
  .string({ error: 'currency must be a string' })
  .regex(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code', abort: true })
  .refine(isIsoCurrency, 'currency is not an ISO 4217 currency');

/** `{iban, currency?}`: the only account reference Assent takes (no BBAN, PAN, MSISDN or proprietary ids). */
export const ibanAccountReference = z.strictObject({ iban, currency: currencyCode.optional() });
export type IbanAccountReference = z.infer<typeof ibanAccountReference>;

/**
 * A EUR amount of a SEPA credit transfer: a decimal string (never a JSON number, so no float ever holds it),
 * at most two fraction digits, no leading zeros, more than zero and at most 999999999.99 (SEPA's limit).
 */
export const AMOUNT = /^(0|[1-9]\d{0,8})(\.\d{1,2})?$/;
export const amount = z
  .string({ error: 'amount must be a decimal string, such as "123.45"' })
  .regex(AMOUNT, { message: 'amount must be a decimal string with at most two fraction digits and at most 999999999.99', abort: true })
  .refine((value) => /[1-9]/.test(value), 'amount must be greater than zero');

/** A calendar date `YYYY-MM-DD` that exists (no 2026-02-30). */
export const isoDate = z
  .string({ error: 'must be a date, YYYY-MM-DD' })
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date, YYYY-MM-DD', abort: true })
  .refine(isCalendarDate, 'is not a date of the calendar');

export function isCalendarDate(value: string): boolean {
  const [year, month, day] = value.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && year >= 1;
}

export const text = (name: string, max: number) =>
  z
    .string({ error: `${name} must be a string` })
    .min(1, `${name} must not be empty`)
    .max(max, `${name} must be at most ${max} characters`)
    // oxlint-disable-next-line no-control-regex -- control characters are what is refused
    .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), `${name} must not contain control characters`);

/** `access.accounts[0].iban`: the guidelines' way of naming a field. */
export function bgPath(path: readonly PropertyKey[]): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`)).join('');
}

function messagesOf(issue: z.core.$ZodIssue): BgTppMessage[] {
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => bgMessage('FORMAT_ERROR', `${key} is not a field of this request`, bgPath([...issue.path, key])));
  const path = bgPath(issue.path);
  const code = issue.code === 'custom' && issue.params?.bgCode ? (issue.params.bgCode as BgMessageCode) : 'FORMAT_ERROR';
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  return [bgMessage(code, missing ? `${path} is required` : issue.message, path || undefined)];
}

/**
 * A request body parsed with `schema`, or a BgError of every issue: FORMAT_ERROR (400) with the field's path,
 * or the code a refinement named; the status is the first message's.
 */
export function parseBgBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body, { reportInput: true });
  if (parsed.success) return parsed.data;
  const messages = parsed.error.issues.flatMap(messagesOf);
  return throwMessages(messages);
}

const statusOf = (message: BgTppMessage) => bgStatusOf(message.code, 'payload');

function throwMessages(messages: BgTppMessage[]): never {
  // One status per answer: FORMAT_ERROR's 400 when there is one, else the first message's (as in a payload).
  const status = messages.some((message) => message.code === 'FORMAT_ERROR') ? 400 : statusOf(messages[0]!);
  throw new BgError(
    status,
    messages.filter((message) => statusOf(message) === status),
  );
}

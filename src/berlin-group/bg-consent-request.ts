import { z } from 'zod';
import { addDays } from './bg-bank-time.ts';
import { bgIssue, ibanAccountReference, isoDate, parseBgBody } from './bg-fields.ts';

/**
 * POST /v1/consents: the AIS consent request of the NextGenPSD2 guidelines (OpenAPI file v1.3.11, schemas
 * `consents` and `accountAccess`), strict. The consistency rules are the guidelines' (accountAccess: "If the
 * array is empty, also the arrays for balances ... or transactions shall be empty, if used"; frequencyPerDay:
 * "For a one-off access, this attribute is set to 1", "greater equal to one", "If not otherwise agreed
 * bilaterally between TPP and ASPSP, the frequency is less equal to 4"; validUntil: "including the mentioned
 * date", "9999-12-31" for the maximum, "Future dates might get adjusted by ASPSP"). An inconsistent body is a
 * FORMAT_ERROR, as adorsys/xs2a answers it (PARAMETER_NOT_CONSISTENT is for query parameters); a value the
 * guidelines make optional for the bank to support and Assent does not (allAccountsWithOwnerName,
 * additionalInformation, restrictedTo) is PARAMETER_NOT_SUPPORTED; combinedServiceIndicator where the bank
 * offers no sessions is SESSIONS_NOT_SUPPORTED.
 */

/** What a bank decides about AIS consents; the defaults are the guidelines' where they give one. */
export interface ConsentPolicy {
  /** The guidelines' default ceiling of frequencyPerDay. */
  maxFrequencyPerDay: number;
  /** The longest validity granted, in days from today: a later validUntil (9999-12-31 included) is adjusted to it. */
  maxValidityDays: number;
  /** Whether combinedServiceIndicator true (AIS and PIS in one session) is accepted. */
  combinedServiceSupported: boolean;
}

/**
 * 180 days: the period after which PSD2's RTS (Art. 10a, as amended by Delegated Regulation (EU) 2022/2360)
 * has the account information renewed with SCA; a bank may configure otherwise.
 */
export const DEFAULT_CONSENT_POLICY: ConsentPolicy = { maxFrequencyPerDay: 4, maxValidityDays: 180, combinedServiceSupported: true };

/** The guidelines' value for "as long as the bank allows". */
export const MAX_VALID_UNTIL = '9999-12-31';

/** More accounts than any customer has: a bound on what a request may list. */
const MAX_ACCOUNTS = 100;

const ACCESS_LISTS = ['accounts', 'balances', 'transactions'] as const;
const ACCESS_FLAGS = ['availableAccounts', 'availableAccountsWithBalance', 'allPsd2'] as const;

const accountList = z.array(ibanAccountReference, { error: 'must be a list of account references' }).max(MAX_ACCOUNTS);

const allAccountsFlag = z.string({ error: 'must be "allAccounts"' }).superRefine((value, ctx) => {
  if (value === 'allAccountsWithOwnerName') bgIssue(ctx, 'PARAMETER_NOT_SUPPORTED', 'allAccountsWithOwnerName is not supported');
  else if (value !== 'allAccounts') ctx.addIssue({ code: 'custom', message: 'must be "allAccounts"' });
});

const notSupported = (name: string) =>
  z.unknown().superRefine((_, ctx) => bgIssue(ctx, 'PARAMETER_NOT_SUPPORTED', `${name} is not supported by this bank`));

const access = z
  .strictObject(
    {
      accounts: accountList.optional(),
      balances: accountList.optional(),
      transactions: accountList.optional(),
      availableAccounts: allAccountsFlag.optional(),
      availableAccountsWithBalance: allAccountsFlag.optional(),
      allPsd2: allAccountsFlag.optional(),
      additionalInformation: notSupported('additionalInformation').optional(),
      restrictedTo: notSupported('restrictedTo').optional(),
    },
    { error: 'access must be an object' },
  )
  .superRefine((value, ctx) => {
    const lists = ACCESS_LISTS.filter((name) => value[name] !== undefined);
    const flags = ACCESS_FLAGS.filter((name) => value[name] !== undefined);
    if (lists.length === 0 && flags.length === 0)
      ctx.addIssue({ code: 'custom', message: `access must name one of ${[...ACCESS_LISTS, ...ACCESS_FLAGS].join(', ')}` });
    if (flags.length > 1) ctx.addIssue({ code: 'custom', message: `access may name only one of ${flags.join(', ')}` });
    if (flags.length > 0 && lists.length > 0)
      ctx.addIssue({ code: 'custom', message: `access cannot name ${flags[0]} together with ${lists.join(', ')}` });
    const empty = lists.filter((name) => value[name]!.length === 0);
    if (empty.length > 0 && empty.length < lists.length)
      ctx.addIssue({
        code: 'custom',
        message: `an empty ${empty[0]} asks for the accounts the customer picks: ${lists.filter((name) => !empty.includes(name)).join(', ')} must then be empty too`,
      });
    for (const name of lists) {
      const seen = new Set<string>();
      value[name]!.forEach((account, index) => {
        const key = `${account.iban} ${account.currency ?? ''}`;
        if (seen.has(key)) ctx.addIssue({ code: 'custom', message: `${account.iban} is listed twice`, path: [name, index] });
        seen.add(key);
      });
    }
  });

function consentSchema(policy: ConsentPolicy, today: string) {
  return z
    .strictObject(
      {
        access,
        recurringIndicator: z.boolean({ error: 'recurringIndicator must be true or false' }),
        validUntil: isoDate,
        frequencyPerDay: z
          .number({ error: 'frequencyPerDay must be an integer' })
          .int('frequencyPerDay must be an integer')
          .min(1, 'frequencyPerDay must be at least 1'),
        combinedServiceIndicator: z.boolean({ error: 'combinedServiceIndicator must be true or false' }),
      },
      { error: 'the body must be a consent request object' },
    )
    .superRefine((value, ctx) => {
      if (!value.recurringIndicator && value.frequencyPerDay !== 1)
        ctx.addIssue({
          code: 'custom',
          message: 'frequencyPerDay must be 1 for a one-off consent (recurringIndicator false)',
          path: ['frequencyPerDay'],
        });
      if (value.frequencyPerDay > policy.maxFrequencyPerDay)
        ctx.addIssue({
          code: 'custom',
          message: `frequencyPerDay must be at most ${policy.maxFrequencyPerDay}`,
          path: ['frequencyPerDay'],
        });
      if (value.validUntil < today)
        ctx.addIssue({ code: 'custom', message: `validUntil must not be before today (${today})`, path: ['validUntil'] });
      if (value.combinedServiceIndicator && !policy.combinedServiceSupported)
        bgIssue(ctx, 'SESSIONS_NOT_SUPPORTED', 'this bank does not support combined AIS and PIS sessions', ['combinedServiceIndicator']);
    });
}

export type BgAccess = z.output<typeof access>;

/** The request body's schema under the default policy, as the OpenAPI document describes it (src/openapi/). */
export const consentRequestSchema = () => consentSchema(DEFAULT_CONSENT_POLICY, MAX_VALID_UNTIL);

export interface BgConsentRequest {
  access: BgAccess;
  recurringIndicator: boolean;
  /** As the TPP asked. */
  requestedValidUntil: string;
  /** As granted: the request's, or the bank's latest date when that is earlier (the guidelines' adjustment). */
  validUntil: string;
  frequencyPerDay: number;
  combinedServiceIndicator: boolean;
}

/**
 * The consent request in `body`, checked against the guidelines and the bank's `policy` on the bank date
 * `today`; a BgError (FORMAT_ERROR with each faulty field's path, or the code a rule names) otherwise.
 */
export function parseConsentRequest(body: unknown, today: string, policy: ConsentPolicy = DEFAULT_CONSENT_POLICY): BgConsentRequest {
  const { validUntil, ...request } = parseBgBody(consentSchema(policy, today), body);
  const latest = addDays(today, policy.maxValidityDays);
  return { ...request, requestedValidUntil: validUntil, validUntil: validUntil > latest ? latest : validUntil };
}

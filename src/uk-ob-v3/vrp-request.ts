import { z } from 'zod';
import type { AccountReference } from '../protocol/consent-types.ts';
import { canonicalAmount } from '../consents/vrp/money.ts';
import { PERIOD_ALIGNMENTS, PERIOD_TYPES, PSU_AUTHENTICATION_METHODS, type VrpTerms, VRP_TYPES } from '../consents/vrp/vrp-terms.ts';
import { fromObAccount } from './account-references.ts';
import { dateTime, obAccount, obAmount, problem, text } from './request-fields.ts';

/**
 * Validation of a UK OB v3.1.10 domestic VRP consent request (`Data.ControlParameters`,
 * `Data.Initiation`, `Risk`). Each rule names the UK.OBIE code it fails with; every periodic limit
 * is in the currency of the individual limit, so limits can be compared without conversion.
 */

const distinct = <T extends string>(values: z.ZodType<T>, name: string) =>
  z
    .array(values)
    .min(1, `${name} must list at least one value`)
    .refine((list) => new Set(list).size === list.length, `${name} must not repeat a value`);

const periodicLimit = obAmount.safeExtend({
  PeriodType: z.enum(PERIOD_TYPES, { error: `PeriodType must be one of ${PERIOD_TYPES.join(', ')}` }),
  PeriodAlignment: z.enum(PERIOD_ALIGNMENTS, { error: `PeriodAlignment must be one of ${PERIOD_ALIGNMENTS.join(', ')}` }),
});

const controlParameters = z
  .object({
    PSUAuthenticationMethods: distinct(
      z.enum(PSU_AUTHENTICATION_METHODS, { error: `must be one of ${PSU_AUTHENTICATION_METHODS.join(', ')}` }),
      'PSUAuthenticationMethods',
    ),
    VRPType: distinct(z.enum(VRP_TYPES, { error: `must be one of ${VRP_TYPES.join(', ')}` }), 'VRPType'),
    ValidFromDateTime: dateTime.optional(),
    ValidToDateTime: dateTime.optional(),
    MaximumIndividualAmount: obAmount,
    PeriodicLimits: z.array(periodicLimit).min(1, 'PeriodicLimits must hold at least one limit'),
  })
  .superRefine((parameters, ctx) => {
    const { ValidFromDateTime: from, ValidToDateTime: to } = parameters;
    if (to !== undefined && Date.parse(to) <= Date.now())
      problem(ctx, 'UK.OBIE.Field.InvalidDate', 'ValidToDateTime must be in the future', ['ValidToDateTime']);
    if (from !== undefined && to !== undefined && Date.parse(from) >= Date.parse(to)) {
      problem(ctx, 'UK.OBIE.Field.InvalidDate', 'ValidFromDateTime must be before ValidToDateTime', ['ValidFromDateTime']);
    }
    const currency = parameters.MaximumIndividualAmount.Currency;
    const seen = new Set<string>();
    parameters.PeriodicLimits.forEach((limit, index) => {
      const path = ['PeriodicLimits', index];
      if (limit.Currency !== currency)
        problem(ctx, 'UK.OBIE.Field.Invalid', `every limit must be in ${currency}, the currency of MaximumIndividualAmount`, [
          ...path,
          'Currency',
        ]);
      if (limit.PeriodType === 'Fortnight' && limit.PeriodAlignment === 'Calendar') {
        problem(
          ctx,
          'UK.OBIE.Field.Invalid',
          'a Fortnight limit must use PeriodAlignment Consent: UK Open Banking defines no calendar fortnight',
          [...path, 'PeriodAlignment'],
        );
      }
      const key = `${limit.PeriodType}/${limit.PeriodAlignment}`;
      if (seen.has(key))
        problem(ctx, 'UK.OBIE.Field.Invalid', `only one ${limit.PeriodType} limit with PeriodAlignment ${limit.PeriodAlignment}`, path);
      seen.add(key);
    });
  });

export const domesticVrpRequest = z.object({
  Data: z.object({
    ReadRefundAccount: z.enum(['Yes', 'No']).optional(),
    ControlParameters: controlParameters,
    Initiation: z.object({
      DebtorAccount: obAccount.optional(),
      CreditorAccount: obAccount.safeExtend({ Name: text(350) }),
      RemittanceInformation: z.object({ Reference: text(35).optional(), Unstructured: text(140).optional() }).optional(),
    }),
  }),
  Risk: z.record(z.string(), z.unknown()),
});

export type DomesticVrpRequest = z.infer<typeof domesticVrpRequest>;

const ukAccount = ({ SchemeName, Identification, Name, SecondaryIdentification }: z.infer<typeof obAccount>) => ({
  SchemeName,
  Identification,
  ...(Name && { Name }),
  ...(SecondaryIdentification && { SecondaryIdentification }),
});

const money = (amount: { Amount: string; Currency: string }) => ({ Amount: canonicalAmount(amount.Amount), Currency: amount.Currency });

/** The parts of a consent draft a valid VRP request fills in: terms with canonical amounts, debtor, expiry, risk. */
export function vrpDraftOf(request: DomesticVrpRequest): {
  vrp: VrpTerms;
  debtorAccount: AccountReference | null;
  expiresAt: Date | null;
  risk: Record<string, unknown>;
} {
  const { ControlParameters: parameters, Initiation: initiation, ReadRefundAccount } = request.Data;
  const vrp: VrpTerms = {
    controlParameters: {
      PSUAuthenticationMethods: parameters.PSUAuthenticationMethods,
      VRPType: parameters.VRPType,
      ...(parameters.ValidFromDateTime !== undefined && { ValidFromDateTime: new Date(parameters.ValidFromDateTime).toISOString() }),
      ...(parameters.ValidToDateTime !== undefined && { ValidToDateTime: new Date(parameters.ValidToDateTime).toISOString() }),
      MaximumIndividualAmount: money(parameters.MaximumIndividualAmount),
      PeriodicLimits: parameters.PeriodicLimits.map((limit) => ({
        ...money(limit),
        PeriodType: limit.PeriodType,
        PeriodAlignment: limit.PeriodAlignment,
      })),
    },
    initiation: {
      // The terms stay in UK OB's shape (vrp-terms.ts); only the keys the TPP filled in.
      CreditorAccount: ukAccount(initiation.CreditorAccount),
      ...(initiation.RemittanceInformation && { RemittanceInformation: initiation.RemittanceInformation }),
    },
    ...(ReadRefundAccount && { readRefundAccount: ReadRefundAccount }),
  };
  return {
    vrp,
    debtorAccount: initiation.DebtorAccount ? fromObAccount(initiation.DebtorAccount) : null,
    expiresAt: parameters.ValidToDateTime === undefined ? null : new Date(parameters.ValidToDateTime),
    risk: request.Risk,
  };
}

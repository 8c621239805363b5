import { z } from 'zod';
import type { AccountReference } from '../protocol/consent-types.ts';
import { canonicalAmount } from '../consents/vrp/money.ts';
import {
  type Merchant,
  type MerchantContext,
  PERIOD_ALIGNMENTS,
  PERIOD_TYPES,
  PSU_AUTHENTICATION_METHODS,
  PSU_INTERACTION_TYPES,
  type VrpTerms,
  VRP_TYPES,
} from '../consents/vrp/vrp-terms.ts';
import { fromObAccount } from './account-references.ts';
import { dateTime, obAccount, obAmount, problem, text } from './request-fields.ts';

/**
 * Validation of a UK OB v3.1.11 domestic VRP consent request (`Data.ControlParameters`,
 * `Data.Initiation`, `Risk`). Each rule names the UK.OBIE code it fails with; every periodic limit
 * is in the currency of the individual limit, so limits can be compared without conversion.
 *
 * `VRPType` says what the mandate is for: `UK.OBIE.VRPType.Sweeping` (between the customer's own
 * accounts) or `UK.OBIE.VRPType.Other`, which Assent takes as the scheme's commercial VRP (cVRP): paying
 * a merchant. One consent is one or the other: the customer is told either "between your own accounts"
 * or "for <merchant>", and the checks differ (docs/vrp.md).
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

/** OBDomesticVRPControlParameters: unchanged in v4.0 but for SupplementaryData (uk-ob-v4/vrp-request.ts). */
export const vrpControlParameters = z
  .object({
    PSUAuthenticationMethods: distinct(
      z.enum(PSU_AUTHENTICATION_METHODS, { error: `must be one of ${PSU_AUTHENTICATION_METHODS.join(', ')}` }),
      'PSUAuthenticationMethods',
    ),
    VRPType: distinct(z.enum(VRP_TYPES, { error: `must be one of ${VRP_TYPES.join(', ')}` }), 'VRPType').refine(
      (types) => types.length === 1,
      'VRPType must be either UK.OBIE.VRPType.Sweeping or UK.OBIE.VRPType.Other: a consent is a sweeping or a commercial mandate, not both',
    ),
    PSUInteractionTypes: distinct(
      z.enum(PSU_INTERACTION_TYPES, { error: `must be one of ${PSU_INTERACTION_TYPES.join(', ')}` }),
      'PSUInteractionTypes',
    ).optional(),
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

/**
 * The transaction risk indicators of v3.1.11's `OBRisk1` that describe a commercial payment, as that
 * version spells them (`ContractPresentInidicator`, sic; v4 corrects it to `ContractPresentIndicator`).
 * "The Risk section is sent by the initiating party to the ASPSP. It is used to specify additional
 * details for risk scoring for Payments." Other Risk keys are kept as sent and not checked here, and the
 * block is stored and answered back as it came (Postgres' jsonb orders its keys, as for every consent).
 */
const PAYMENT_CONTEXTS = {
  BillingGoodsAndServicesInAdvance: 'billing_in_advance',
  BillingGoodsAndServicesInArrears: 'billing_in_arrears',
  EcommerceMerchantInitiatedPayment: 'ecommerce_merchant_initiated',
  FaceToFacePointOfSale: 'face_to_face_point_of_sale',
  PispPayee: 'pisp_payee',
  TransferToThirdParty: 'transfer_to_third_party',
} as const satisfies Record<string, MerchantContext>;
/** v3.1.11's other codes: `TransferToSelf` (sweeping's) and the ones it deprecates. */
const OTHER_CONTEXTS = ['TransferToSelf', 'BillPayment', 'EcommerceGoods', 'EcommerceServices', 'Other', 'PartyToParty'] as const;
type CommercialContext = keyof typeof PAYMENT_CONTEXTS;
const COMMERCIAL_CONTEXTS = Object.keys(PAYMENT_CONTEXTS) as CommercialContext[];

const riskIndicators = z.looseObject({
  PaymentContextCode: z
    .enum([...COMMERCIAL_CONTEXTS, ...OTHER_CONTEXTS], {
      error: `PaymentContextCode must be one of ${[...COMMERCIAL_CONTEXTS, ...OTHER_CONTEXTS].join(', ')}`,
    })
    .optional(),
  // "Category code conform to ISO 18245": minLength 3, maxLength 4 in OBRisk1; digits only.
  MerchantCategoryCode: z
    .string()
    .regex(/^\d{3,4}$/, 'MerchantCategoryCode must be an ISO 18245 code of 3 or 4 digits')
    .optional(),
  MerchantCustomerIdentification: text(70).optional(),
  ContractPresentInidicator: z.boolean({ error: 'ContractPresentInidicator must be true or false' }).optional(),
  BeneficiaryPrepopulatedIndicator: z.boolean({ error: 'BeneficiaryPrepopulatedIndicator must be true or false' }).optional(),
});

/** The Risk indicators every version's purpose check reads. */
type PurposeIndicators = { PaymentContextCode?: string; MerchantCategoryCode?: string };

/**
 * What each purpose asks of the Risk block. A commercial mandate names its merchant: the
 * PaymentContextCode of a payment to a third party and its ISO 18245 category are required (the cVRP
 * "mandatory alignment" makes them so: "Risk TRI fields now mandatory"); a sweeping one, when it says
 * its context, says `TransferToSelf`. `commercialContexts` are the version's codes for a payment to a
 * third party (v4.0 dropped `PispPayee`).
 */
export function checkRiskForPurpose(
  risk: PurposeIndicators,
  commercial: boolean,
  ctx: z.RefinementCtx,
  commercialContexts: readonly string[] = COMMERCIAL_CONTEXTS,
) {
  const context = risk.PaymentContextCode;
  if (commercial) {
    if (context === undefined)
      problem(ctx, 'UK.OBIE.Field.Missing', 'Risk.PaymentContextCode is required for UK.OBIE.VRPType.Other', [
        'Risk',
        'PaymentContextCode',
      ]);
    else if (!commercialContexts.includes(context)) {
      problem(
        ctx,
        'UK.OBIE.Field.Invalid',
        `a commercial VRP pays a merchant: PaymentContextCode must be one of ${commercialContexts.join(', ')}`,
        ['Risk', 'PaymentContextCode'],
      );
    }
    if (risk.MerchantCategoryCode === undefined)
      problem(ctx, 'UK.OBIE.Field.Missing', 'Risk.MerchantCategoryCode is required for UK.OBIE.VRPType.Other', [
        'Risk',
        'MerchantCategoryCode',
      ]);
  } else if (context !== undefined && context !== 'TransferToSelf') {
    problem(
      ctx,
      'UK.OBIE.Field.Invalid',
      'sweeping moves money between the customer’s own accounts: PaymentContextCode must be TransferToSelf',
      ['Risk', 'PaymentContextCode'],
    );
  }
}

export const isCommercial = (request: { Data: { ControlParameters: { VRPType: readonly string[] } } }) =>
  request.Data.ControlParameters.VRPType.includes('UK.OBIE.VRPType.Other');

const domesticVrpShape = z.object({
  Data: z.object({
    ReadRefundAccount: z.enum(['Yes', 'No']).optional(),
    ControlParameters: vrpControlParameters,
    Initiation: z.object({
      DebtorAccount: obAccount.optional(),
      CreditorAccount: obAccount.safeExtend({ Name: text(350) }),
      RemittanceInformation: z.object({ Reference: text(35).optional(), Unstructured: text(140).optional() }).optional(),
    }),
  }),
  Risk: riskIndicators,
});

export const domesticVrpRequest = domesticVrpShape.superRefine((request, ctx) =>
  checkRiskForPurpose(request.Risk, isCommercial(request), ctx),
);

export type DomesticVrpRequest = z.infer<typeof domesticVrpRequest>;

/**
 * A commercial mandate's merchant, from the creditor's Name and the Risk indicators (validated by
 * checkRiskForPurpose); `contractWithTpp` is the contract indicator, whichever way the version spells it.
 */
export function merchantFrom(
  name: string,
  risk: PurposeIndicators & { MerchantCustomerIdentification?: string; BeneficiaryPrepopulatedIndicator?: boolean },
  contractWithTpp: boolean | undefined,
): Merchant {
  return {
    name,
    categoryCode: risk.MerchantCategoryCode!,
    ...(risk.MerchantCustomerIdentification !== undefined && { customerReference: risk.MerchantCustomerIdentification }),
    context: PAYMENT_CONTEXTS[risk.PaymentContextCode as CommercialContext],
    ...(contractWithTpp !== undefined && { contractWithTpp }),
    ...(risk.BeneficiaryPrepopulatedIndicator !== undefined && { payeePrefilled: risk.BeneficiaryPrepopulatedIndicator }),
  };
}

const ukAccount = ({ SchemeName, Identification, Name, SecondaryIdentification }: z.infer<typeof obAccount>) => ({
  SchemeName,
  Identification,
  ...(Name && { Name }),
  ...(SecondaryIdentification && { SecondaryIdentification }),
});

const money = (amount: { Amount: string; Currency: string }) => ({ Amount: canonicalAmount(amount.Amount), Currency: amount.Currency });

/** A valid VRP request of either version, its Initiation in the model's (v3.1's) words. */
export interface VrpDraftInput {
  Data: {
    ReadRefundAccount?: 'Yes' | 'No' | undefined;
    ControlParameters: z.infer<typeof vrpControlParameters>;
    Initiation: {
      DebtorAccount?: z.infer<typeof obAccount> | undefined;
      CreditorAccount: z.infer<typeof obAccount> & { Name: string };
      RemittanceInformation?: { Reference?: string | undefined; Unstructured?: string | undefined } | undefined;
    };
  };
  Risk: Record<string, unknown>;
}

/** The parts of a consent draft a valid v3.1 VRP request fills in (vrpDraftFrom). */
export function vrpDraftOf(request: DomesticVrpRequest) {
  const risk = request.Risk;
  const merchant = isCommercial(request)
    ? merchantFrom(request.Data.Initiation.CreditorAccount.Name, risk, risk.ContractPresentInidicator)
    : undefined;
  return vrpDraftFrom(request, merchant);
}

/**
 * The parts of a consent draft a valid VRP request fills in: terms with canonical amounts, debtor, expiry,
 * risk, and a commercial mandate's merchant (a sweeping one has none).
 */
export function vrpDraftFrom(
  request: VrpDraftInput,
  merchant: Merchant | undefined,
): {
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
      ...(parameters.PSUInteractionTypes !== undefined && { PSUInteractionTypes: parameters.PSUInteractionTypes }),
    },
    initiation: {
      // The terms stay in UK OB's shape (vrp-terms.ts); only the keys the TPP filled in.
      CreditorAccount: ukAccount(initiation.CreditorAccount),
      ...(initiation.RemittanceInformation && { RemittanceInformation: initiation.RemittanceInformation }),
    },
    ...(ReadRefundAccount && { readRefundAccount: ReadRefundAccount }),
    ...(merchant ? { purpose: 'commercial', merchant } : { purpose: 'sweeping' }),
  };
  return {
    vrp,
    debtorAccount: initiation.DebtorAccount ? fromObAccount(initiation.DebtorAccount) : null,
    expiresAt: parameters.ValidToDateTime === undefined ? null : new Date(parameters.ValidToDateTime),
    risk: request.Risk,
  };
}

import type { ObAccountReference } from '../../db/schema.ts';

/**
 * A domestic VRP consent's terms (UK OB v3.1.10 `ControlParameters` + `Initiation`), in the shape
 * they are stored and answered. Amounts stay decimal strings with two fraction digits ("250.00");
 * arithmetic on them happens in minor units (money.ts), never in floats.
 */

export const PERIOD_TYPES = ['Day', 'Week', 'Fortnight', 'Month', 'Half-year', 'Year'] as const;
export type PeriodType = (typeof PERIOD_TYPES)[number];

export const PERIOD_ALIGNMENTS = ['Consent', 'Calendar'] as const;
export type PeriodAlignment = (typeof PERIOD_ALIGNMENTS)[number];

export const VRP_TYPES = ['UK.OBIE.VRPType.Sweeping', 'UK.OBIE.VRPType.Other'] as const;
export type VrpType = (typeof VRP_TYPES)[number];

export const PSU_AUTHENTICATION_METHODS = ['UK.OBIE.SCA', 'UK.OBIE.SCANotRequired'] as const;
export type PsuAuthenticationMethod = (typeof PSU_AUTHENTICATION_METHODS)[number];

/**
 * UK OB v3.1.11 / v4 `OBVRPInteractionTypes`: "Indicates interaction type, currently if customer is
 * present or not present. If not provided the default is `OffSession` (the customer is not present)
 * when the individual VRP payment is made."
 */
export const PSU_INTERACTION_TYPES = ['InSession', 'OffSession'] as const;
export type PsuInteractionType = (typeof PSU_INTERACTION_TYPES)[number];

/**
 * What a mandate is for, in the model's words: `sweeping` moves money between the customer's own
 * accounts ("it needs to be between two accounts belonging to the same person or legal entity", OBL's
 * sweeping FAQ); `commercial` pays a merchant (the scheme's commercial VRP, UK OB `VRPType.Other`).
 */
export const VRP_PURPOSES = ['sweeping', 'commercial'] as const;
export type VrpPurpose = (typeof VRP_PURPOSES)[number];

/**
 * The merchant a commercial mandate pays, as the TPP described it (UK OB: the creditor's Name and the
 * Risk block's transaction risk indicators). Shown to the customer and to the bank's payment system.
 */
export interface Merchant {
  name: string;
  /** ISO 18245 merchant category code ("5815"). */
  categoryCode: string;
  /** How the merchant knows the customer (the customer's reference with it), when given. */
  customerReference?: string;
  /** What the payments are for: `billing_in_advance`, `billing_in_arrears`, `ecommerce_merchant_initiated`, ... */
  context: MerchantContext;
  /** Whether the merchant has a contract with the TPP. */
  contractWithTpp?: boolean;
  /** Whether the TPP filled in the payee for the customer, unchangeable by them. */
  payeePrefilled?: boolean;
}

export const MERCHANT_CONTEXTS = [
  'billing_in_advance',
  'billing_in_arrears',
  'ecommerce_merchant_initiated',
  'face_to_face_point_of_sale',
  'pisp_payee',
  'transfer_to_third_party',
] as const;
export type MerchantContext = (typeof MERCHANT_CONTEXTS)[number];

export interface Money {
  Amount: string;
  Currency: string;
}

export interface PeriodicLimit extends Money {
  PeriodType: PeriodType;
  PeriodAlignment: PeriodAlignment;
}

export interface ControlParameters {
  PSUAuthenticationMethods: PsuAuthenticationMethod[];
  VRPType: VrpType[];
  ValidFromDateTime?: string;
  ValidToDateTime?: string;
  MaximumIndividualAmount: Money;
  PeriodicLimits: PeriodicLimit[];
  /** Whether payments may be made with the customer present, absent, or both; absent: only OffSession (as UK OB defaults it). */
  PSUInteractionTypes?: PsuInteractionType[];
}

export interface VrpInitiation {
  CreditorAccount: ObAccountReference;
  RemittanceInformation?: { Reference?: string; Unstructured?: string };
}

export interface VrpTerms {
  controlParameters: ControlParameters;
  initiation: VrpInitiation;
  readRefundAccount?: 'Yes' | 'No';
  /** Written by every dialect and by the migration that introduced it; see `purposeOf`. */
  purpose?: VrpPurpose;
  /** A commercial mandate's merchant. */
  merchant?: Merchant;
}

/** When payments may start: ValidFromDateTime, or the consent's creation when none was given. */
export function validFrom(terms: VrpTerms, createdAt: Date): Date {
  const from = terms.controlParameters.ValidFromDateTime;
  return from === undefined ? createdAt : new Date(from);
}

export function validTo(terms: VrpTerms): Date | null {
  const to = terms.controlParameters.ValidToDateTime;
  return to === undefined ? null : new Date(to);
}

/**
 * What the mandate is for. Terms without `purpose` were written by an instance older than commercial
 * VRP (during a rolling deploy, after the migration ran) or built by hand: for them UK's VRPType says
 * it, as it did before.
 */
export function purposeOf(terms: Pick<VrpTerms, 'purpose' | 'controlParameters'>): VrpPurpose {
  return terms.purpose ?? (terms.controlParameters.VRPType.includes('UK.OBIE.VRPType.Sweeping') ? 'sweeping' : 'commercial');
}

/** The payment may be made in this interaction type (a payment that does not say is OffSession, as UK OB defaults it). */
export function allowsInteraction(terms: VrpTerms, interaction: PsuInteractionType): boolean {
  return (terms.controlParameters.PSUInteractionTypes ?? ['OffSession']).includes(interaction);
}

/** What the customer is told about these terms (src/wording/vrp.ts words it). */
export function vrpFacts(terms: VrpTerms, createdAt: Date) {
  const { MaximumIndividualAmount: maximum, PeriodicLimits: limits, ValidFromDateTime: from } = terms.controlParameters;
  return {
    maximum,
    limits,
    countedFrom: validFrom(terms, createdAt),
    validFrom: from === undefined ? undefined : new Date(from),
    validTo: validTo(terms),
    payee: terms.initiation.CreditorAccount.Name,
    sweeping: purposeOf(terms) === 'sweeping',
    merchant: terms.merchant && { name: terms.merchant.name, customerReference: terms.merchant.customerReference },
    presence: terms.controlParameters.PSUInteractionTypes ?? [],
  };
}

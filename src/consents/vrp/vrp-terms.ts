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
}

export interface VrpInitiation {
  CreditorAccount: ObAccountReference;
  RemittanceInformation?: { Reference?: string; Unstructured?: string };
}

export interface VrpTerms {
  controlParameters: ControlParameters;
  initiation: VrpInitiation;
  readRefundAccount?: 'Yes' | 'No';
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

function isSweeping(terms: VrpTerms): boolean {
  return terms.controlParameters.VRPType.includes('UK.OBIE.VRPType.Sweeping');
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
    sweeping: isSweeping(terms),
  };
}

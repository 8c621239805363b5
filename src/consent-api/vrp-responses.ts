import { z } from 'zod';
import type { Consent } from '../consents/consent.ts';
import { ukDebtorAccount } from '../uk-ob-v3/consent-out.ts';
import {
  PERIOD_ALIGNMENTS,
  PERIOD_TYPES,
  PSU_AUTHENTICATION_METHODS,
  PSU_INTERACTION_TYPES,
  VRP_TYPES,
} from '../consents/vrp/vrp-terms.ts';
import { account, common, commonData, dateTime, links, meta } from './ob-responses.ts';

/** The domestic VRP consent's response body (UK OB v3.1.10), as a zod contract and a builder of exactly it. */

const money = z.object({ Amount: z.string().regex(/^\d{1,13}\.\d{2}$/), Currency: z.string().regex(/^[A-Z]{3}$/) });

export const domesticVrpResponse = z.object({
  Data: z.object({
    ...common,
    ReadRefundAccount: z.enum(['Yes', 'No']).optional(),
    ControlParameters: z.object({
      PSUAuthenticationMethods: z.array(z.enum(PSU_AUTHENTICATION_METHODS)),
      VRPType: z.array(z.enum(VRP_TYPES)),
      ValidFromDateTime: dateTime.optional(),
      ValidToDateTime: dateTime.optional(),
      MaximumIndividualAmount: money,
      PeriodicLimits: z.array(money.extend({ PeriodType: z.enum(PERIOD_TYPES), PeriodAlignment: z.enum(PERIOD_ALIGNMENTS) })),
      PSUInteractionTypes: z.array(z.enum(PSU_INTERACTION_TYPES)).optional(),
    }),
    Initiation: z.object({
      DebtorAccount: account.optional(),
      CreditorAccount: account,
      RemittanceInformation: z.object({ Reference: z.string().optional(), Unstructured: z.string().optional() }).optional(),
    }),
  }),
  Risk: z.record(z.string(), z.unknown()),
  Links: links,
  Meta: meta,
});

export function domesticVrpBody(consent: Consent, self: string): z.infer<typeof domesticVrpResponse> {
  const terms = consent.vrp!;
  return {
    Data: {
      ...commonData(consent),
      ...(terms.readRefundAccount && { ReadRefundAccount: terms.readRefundAccount }),
      ControlParameters: terms.controlParameters,
      Initiation: { ...(consent.debtorAccount && { DebtorAccount: ukDebtorAccount(consent)! }), ...terms.initiation },
    },
    Risk: consent.risk,
    Links: { Self: self },
    Meta: { TotalPages: 1 },
  };
}

import { z } from 'zod';
import type { ConsentDraft } from '../consents/consent.ts';
import { BLANK } from '../uk-ob-v3/consent-request.ts';
import { obAccount, problem, text } from '../uk-ob-v3/request-fields.ts';
import { checkRiskForPurpose, isCommercial, merchantFrom, vrpControlParameters, vrpDraftFrom } from '../uk-ob-v3/vrp-request.ts';
import { obRisk1V4, V4_PAYMENT_CONTEXT_CODES } from './payment-request.ts';

/**
 * UK OB v4.0 domestic VRP consent requests (OBDomesticVRPConsentRequest of vrp-openapi.json,
 * read-write-api-specs v4.0 Update 4) into the model. The control parameters are v3.1's
 * (OBDomesticVRPControlParameters kept every field, code and rule; uk-ob-v3/vrp-request.ts checks them),
 * the purpose rules are v3.1's (a sweeping mandate says `TransferToSelf` if anything, a commercial one
 * names its merchant), and what v4.0 changed is checked here: the closed OBRisk1 of v4.0 with its
 * PaymentContextCode list and `ContractPresentIndicator` spelled right ("`ContractPresentIndicator` typo
 * fixed", version-control v4.0.0), the reference in ISO 20022's Structured remittance, account Names of
 * at most 70 (Max70Text, v3.1.11 allowed 350), a DebtorAccount that must carry its Name
 * (OBCashAccountDebtorWithName: `"required": ["SchemeName", "Identification", "Name"]`), and
 * SupplementaryData refused. VRPType, PSUAuthenticationMethods and PSUInteractionTypes keep their v3.1
 * codes (OBVRPConsentType, OBVRPAuthenticationMethods and OBVRPInteractionTypes of OB_Internal_Codeset.csv
 * are still `UK.OBIE.VRPType.Sweeping`, `UK.OBIE.SCA`, `InSession`, ...); v4.0 names no codes of its own
 * for commercial VRP. Fields the model does not hold (CreditorPostalAddress, UltimateCreditor,
 * UltimateDebtor, RegulatoryReporting, an account's Proxy) are ignored, as for v4.0 payments.
 */

/** v4.0's codes for a payment to a third party: OBInternalPaymentContext1Code without sweeping's `TransferToSelf` (v3.1.11's `PispPayee` is gone). */
const COMMERCIAL_CONTEXTS_V4 = V4_PAYMENT_CONTEXT_CODES.filter((code) => code !== 'TransferToSelf');

/**
 * OBDomesticVRPControlParameters of v4.0. domestic-vrp-consents.md v4.0: "The ASPSP **must** reject a
 * consent request that has `Data.ControlParameters.SupplementaryData` that it cannot process", and
 * Assent processes none, so any field in it is U005.
 */
const controlParametersV4 = vrpControlParameters
  .safeExtend({ SupplementaryData: z.record(z.string(), z.unknown()).optional() })
  .superRefine((parameters, ctx) => {
    for (const key of Object.keys(parameters.SupplementaryData ?? {}))
      problem(ctx, 'UK.OBIE.Field.Unexpected', `SupplementaryData cannot be processed here; ${key} is not accepted`, [
        'SupplementaryData',
        key,
      ]);
  });

/**
 * OBRemittanceInformation2 of a VRP consent: v4.0 moved v3.1's `Reference` into
 * `Structured[].CreditorReferenceInformation.Reference` and made `Unstructured` a list. The model holds
 * one reference and one unstructured line (v3.1's shape: "the same Remittance Information __MUST__ be
 * provided by the PISP in the Initiation and Instruction section of each VRP Payment", so it is kept,
 * not dropped), so a second of either is U005.
 */
const remittanceInformationV4 = z
  .object({
    Structured: z.array(z.object({ CreditorReferenceInformation: z.object({ Reference: text(35).optional() }).optional() })).optional(),
    Unstructured: z.array(text(140)).optional(),
  })
  .superRefine((remittance, ctx) => {
    const referenced = (remittance.Structured ?? []).filter((entry) => entry.CreditorReferenceInformation?.Reference !== undefined);
    if (referenced.length > 1)
      problem(ctx, 'UK.OBIE.Field.Unexpected', 'a VRP consent carries one reference: one Structured entry with a Reference', [
        'Structured',
      ]);
    if ((remittance.Unstructured ?? []).length > 1)
      problem(ctx, 'UK.OBIE.Field.Unexpected', 'a VRP consent carries one Unstructured line', ['Unstructured', 1]);
  });

/** OBCashAccountCreditor3 and OBCashAccountDebtorWithName of v4.0: v3.1's schemes and identifications, a required Name of at most 70. */
const accountWithName = obAccount.safeExtend({ Name: text(70) });

/**
 * OBDomesticVRPConsentRequest of v4.0. Its Initiation makes CreditorAccount optional ("Deferred
 * specification of CreditorAccount", vrp-profile.md v4.0: "for non-sweeping VRPs a PISP may create a
 * `vrp-consent` without specifying the `CreditorAccount` ... An ASPSP may permit these type of consents
 * only when an appropriate contract is in place"); Assent has no such contracts and shows the customer
 * whom they pay, so it requires one, as v3.1 does here.
 */
export const domesticVrpRequestV4 = z
  .object({
    Data: z.object({
      ReadRefundAccount: z.enum(['Yes', 'No']).optional(),
      ControlParameters: controlParametersV4,
      Initiation: z.object({
        DebtorAccount: accountWithName.optional(),
        CreditorAccount: accountWithName,
        RemittanceInformation: remittanceInformationV4.optional(),
      }),
    }),
    Risk: obRisk1V4,
  })
  .superRefine((request, ctx) => {
    const { MerchantCategoryCode } = request.Risk;
    // OBRisk1 says "Category code conform to ISO 18245" (minLength 3, maxLength 4): its codes are digits, as v3.1 checks.
    if (MerchantCategoryCode !== undefined && !/^\d{3,4}$/.test(MerchantCategoryCode))
      problem(ctx, 'UK.OBIE.Field.Invalid', 'MerchantCategoryCode must be an ISO 18245 code of 3 or 4 digits', [
        'Risk',
        'MerchantCategoryCode',
      ]);
    checkRiskForPurpose(request.Risk, isCommercial(request), ctx, COMMERCIAL_CONTEXTS_V4);
  });

export type DomesticVrpRequestV4 = z.infer<typeof domesticVrpRequestV4>;

/** The draft of a valid OBDomesticVRPConsentRequest, created in v4.0: the terms in the model's words, the Risk as sent. */
export function domesticVrpDraftV4(request: DomesticVrpRequestV4): ConsentDraft {
  const { Initiation, ControlParameters, ReadRefundAccount } = request.Data;
  const { SupplementaryData: _none, ...controlParameters } = ControlParameters;
  const remittance = Initiation.RemittanceInformation;
  const reference = remittance?.Structured?.find((entry) => entry.CreditorReferenceInformation?.Reference !== undefined)
    ?.CreditorReferenceInformation?.Reference;
  const unstructured = remittance?.Unstructured?.[0];
  const merchant = isCommercial(request)
    ? merchantFrom(Initiation.CreditorAccount.Name, request.Risk, request.Risk.ContractPresentIndicator)
    : undefined;
  const terms = vrpDraftFrom(
    {
      Data: {
        ReadRefundAccount,
        ControlParameters: controlParameters,
        Initiation: {
          DebtorAccount: Initiation.DebtorAccount,
          CreditorAccount: Initiation.CreditorAccount,
          RemittanceInformation:
            reference === undefined && unstructured === undefined
              ? undefined
              : {
                  ...(reference !== undefined && { Reference: reference }),
                  ...(unstructured !== undefined && { Unstructured: unstructured }),
                },
        },
      },
      Risk: request.Risk,
    },
    merchant,
  );
  return { ...BLANK, type: 'domestic_vrp', standard: 'uk_ob_v4', ...terms };
}

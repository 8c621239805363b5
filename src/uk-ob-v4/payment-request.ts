import { z } from 'zod';
import type { ConsentDraft } from '../consents/consent.ts';
import { fromObAccount } from '../uk-ob-v3/account-references.ts';
import { BLANK } from '../uk-ob-v3/consent-request.ts';
import { obAccount, obAmount, problem, text } from '../uk-ob-v3/request-fields.ts';

/**
 * UK OB v4.0 domestic-payment consent requests (OBWriteDomesticConsent4 of read-write-api-specs v4.0
 * Update 4, payment-initiation-openapi.json) into the model. The rules below are v4.0's where it changed
 * v3.1's (the Risk, the reference, the creditor's bank, a 350-character account Name) and v3.1's
 * otherwise (amount, currency, account schemes and identifications, via uk-ob-v3/request-fields.ts).
 * Fields the model does not hold (LocalInstrument, UltimateCreditor/UltimateDebtor, RegulatoryReporting,
 * Unstructured remittance, Authorisation, SCASupportData, Proxy, SupplementaryData) are ignored as v3.1
 * ignores the fields it does not read.
 */

/** OBInternalPaymentContext1Code (OB_Internal_Codeset.csv; OBRisk1.PaymentContextCode of v4.0). */
export const V4_PAYMENT_CONTEXT_CODES = [
  'BillingGoodsAndServicesInAdvance',
  'BillingGoodsAndServicesInArrears',
  'EcommerceMerchantInitiatedPayment',
  'FaceToFacePointOfSale',
  'TransferToSelf',
  'TransferToThirdParty',
] as const;

/** ExternalCategoryPurpose1Code, the enum of v4.0's OBRisk1.CategoryPurposeCode. */
const CATEGORY_PURPOSE_CODES = [
  'BONU', 'CASH', 'CBLK', 'CCRD', 'CGWV', 'CIPC', 'CONC', 'CORT', 'DCRD', 'DIVI', 'DVPM', 'EPAY', 'FCDT', 'FCIN', 'FCOL',
  'GOVT', 'GP2P', 'HEDG', 'ICCP', 'IDCP', 'INTC', 'INTE', 'LBOX', 'LOAN', 'MP2B', 'MP2P', 'OTHR', 'PENS', 'RPRE', 'RRCT',
  'RVPM', 'SALA', 'SECU', 'SSBE', 'SUPP', 'SWEP', 'TAXS', 'TOPG', 'TRAD', 'TREA', 'VATX', 'VOST', 'WHLD', 'ZABA',
] as const; // prettier-ignore

/** OBInternalExtendedAccountType1Code, the enum of v4.0's OBRisk1.BeneficiaryAccountType. */
const BENEFICIARY_ACCOUNT_TYPES = [
  'Business', 'BusinessSavingsAccount', 'Charity', 'Collection', 'Corporate', 'Ewallet', 'Government', 'Investment', 'ISA',
  'JointPersonal', 'Pension', 'Personal', 'PersonalSavingsAccount', 'Premier', 'Wealth',
] as const; // prettier-ignore

/** Refuses, as U005 (Field.Unexpected), a key the closed (`additionalProperties: false`) object does not define. */
const closed = <T extends z.ZodRawShape>(name: string, shape: T) =>
  z.looseObject(shape).superRefine((value, ctx) => {
    for (const key of Object.keys(value))
      if (!(key in shape)) problem(ctx, 'UK.OBIE.Field.Unexpected', `${key} is not a field of ${name} in UK OB v4.0`, [key]);
  });

/** OBPostalAddress7 (v4.0's one address: Risk.DeliveryAddress here), closed. */
const obPostalAddress7 = closed('OBPostalAddress7', {
  AddressType: z.enum(['BIZZ', 'DLVY', 'MLTO', 'PBOX', 'ADDR', 'HOME', 'CORR', 'STAT']).optional(),
  Department: text(70).optional(),
  SubDepartment: text(70).optional(),
  StreetName: text(140).optional(),
  BuildingNumber: text(16).optional(),
  BuildingName: text(140).optional(),
  Floor: text(70).optional(),
  UnitNumber: text(16).optional(),
  Room: text(70).optional(),
  PostBox: text(16).optional(),
  TownLocationName: text(140).optional(),
  DistrictName: text(140).optional(),
  CareOf: text(140).optional(),
  PostCode: text(16).optional(),
  TownName: text(140).optional(),
  CountrySubDivision: text(35).optional(),
  Country: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional(),
  AddressLine: z.array(text(70)).max(7).optional(),
});

/**
 * OBRisk1 of v4.0: closed (`"additionalProperties": false`, so a field it lacks is U005), required on
 * the request (`"required": ["Data", "Risk"]`), with its own PaymentContextCode list: v3.1.11's
 * `PispPayee` and the codes it marked "@deprecated" (`BillPayment`, `EcommerceGoods`,
 * `EcommerceServices`, `Other`, `PartyToParty`) are gone, and `CategoryPurposeCode` is new.
 * PaymentPurposeCode is ExternalPurpose1Code (an ISO list of some hundreds of codes that changes with
 * ISO's quarterly releases), checked here by its form (`minLength: 1, maxLength: 4`) only.
 */
export const obRisk1V4 = closed('OBRisk1', {
  PaymentContextCode: z.enum(V4_PAYMENT_CONTEXT_CODES).optional(),
  MerchantCategoryCode: z.string().min(3).max(4).optional(),
  MerchantCustomerIdentification: text(70).optional(),
  ContractPresentIndicator: z.boolean().optional(),
  BeneficiaryPrepopulatedIndicator: z.boolean().optional(),
  PaymentPurposeCode: text(4).optional(),
  CategoryPurposeCode: z.enum(CATEGORY_PURPOSE_CODES).optional(),
  BeneficiaryAccountType: z.enum(BENEFICIARY_ACCOUNT_TYPES).optional(),
  DeliveryAddress: obPostalAddress7.optional(),
});

/**
 * CreditorAgent (OBBranchAndFinancialInstitutionIdentification6): the model holds the payee's bank as
 * a BIC (the Berlin Group's creditorAgent), so a CreditorAgent, when given, names it by
 * `UK.OBIE.BICFI` (OBInternalFinancialInstitutionIdentification4Code) and a BIC (ISO 9362).
 */
const BIC = /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/;
const creditorAgent = z.object({ SchemeName: z.string().optional(), Identification: text(35).optional() }).superRefine((agent, ctx) => {
  if (agent.SchemeName !== 'UK.OBIE.BICFI')
    problem(ctx, 'UK.OBIE.Unsupported.Scheme', 'CreditorAgent must be named by SchemeName UK.OBIE.BICFI', ['SchemeName']);
  else if (agent.Identification === undefined || !BIC.test(agent.Identification))
    problem(ctx, 'UK.OBIE.Field.Invalid', 'CreditorAgent.Identification must be a BIC (ISO 9362)', ['Identification']);
});

/**
 * OBRemittanceInformation2: v4.0 moved v3.1's `Reference` into ISO 20022's
 * `Structured[].CreditorReferenceInformation.Reference` (version-control v4.0.0: "`RemittanceInformation`
 * object updated to ISO format, this replaces 'reference' in payment requests"). The model holds one
 * reference, the one the payee sees, so at most one Structured entry may carry one.
 */
const remittanceInformation = z
  .object({
    Structured: z.array(z.object({ CreditorReferenceInformation: z.object({ Reference: text(35).optional() }).optional() })).optional(),
    Unstructured: z.array(text(140)).optional(),
  })
  .superRefine((remittance, ctx) => {
    const referenced = (remittance.Structured ?? []).filter((entry) => entry.CreditorReferenceInformation?.Reference !== undefined);
    if (referenced.length > 1)
      problem(
        ctx,
        'UK.OBIE.Field.Unexpected',
        'a payment carries one reference: one Structured entry with CreditorReferenceInformation.Reference',
        ['Structured'],
      );
  });

/** The one reference of a v4.0 RemittanceInformation, or null. */
const referenceOf = (remittance: z.infer<typeof remittanceInformation> | undefined) =>
  remittance?.Structured?.find((entry) => entry.CreditorReferenceInformation?.Reference !== undefined)?.CreditorReferenceInformation
    ?.Reference ?? null;

/** v4.0's account: v3.1's schemes and identification rules, a Name of up to 350 characters (Max350Text). */
const obAccountV4 = obAccount.safeExtend({ Name: text(350).optional() });

/** OBWriteDomesticConsent4. */
export const domesticPaymentRequestV4 = z.object({
  Data: z.object({
    Initiation: z.object({
      InstructionIdentification: text(35),
      EndToEndIdentification: text(35),
      InstructedAmount: obAmount,
      CreditorAccount: obAccountV4.safeExtend({ Name: text(350) }),
      DebtorAccount: obAccountV4.optional(),
      CreditorAgent: creditorAgent.optional(),
      RemittanceInformation: remittanceInformation.optional(),
    }),
  }),
  Risk: obRisk1V4,
});

/** The draft of a valid OBWriteDomesticConsent4, created in v4.0. */
export function domesticPaymentDraftV4(request: z.infer<typeof domesticPaymentRequestV4>): ConsentDraft {
  const { Initiation } = request.Data;
  return {
    ...BLANK,
    type: 'domestic_payment',
    standard: 'uk_ob_v4',
    // A single payment is made once.
    recurring: false,
    payment: {
      scheme: 'uk_domestic',
      amount: Initiation.InstructedAmount.Amount,
      currency: Initiation.InstructedAmount.Currency,
      creditorAccount: fromObAccount({ ...Initiation.CreditorAccount, Name: undefined }),
      creditorName: Initiation.CreditorAccount.Name,
      reference: referenceOf(Initiation.RemittanceInformation),
      instructionIdentification: Initiation.InstructionIdentification,
      endToEndIdentification: Initiation.EndToEndIdentification,
      creditorAgent: Initiation.CreditorAgent?.Identification ?? null,
      requestedExecutionDate: null,
    },
    debtorAccount: Initiation.DebtorAccount ? fromObAccount(Initiation.DebtorAccount) : null,
    risk: request.Risk,
  };
}

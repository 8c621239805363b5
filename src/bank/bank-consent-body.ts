import type { Consent } from '../consents/consent.ts';
import { purposeOf } from '../consents/vrp/vrp-terms.ts';
import { ukCreditorAccount, ukDebtorAccount, ukPermissions } from '../uk-ob-v3/consent-out.ts';

/**
 * The whole consent as a resource server sees it, in UK OB field names, whatever dialect created it
 * (resource servers already read these; a Berlin Group consent's reads map one-to-one to UK
 * permissions too), plus the model's own: `Access` (what may be read, of which accounts; null: the
 * accounts the customer chose, `AccountIds`), `Standard` (the dialect), `EndedBy`, `PaymentScheme` (how a
 * payment moves: the bank executes a SEPA one, instant or not, by it) and, in `Initiation`, what only a SEPA
 * payment carries: `CreditorAgent` and `RequestedExecutionDate` (docs/bank-api.md); `PayingAccount` (the
 * account a payment or VRP pays from, once authorised) and, for a VRP, `VrpPurpose` and a commercial
 * mandate's `Merchant` (docs/vrp.md).
 */
export function bankConsentBody(consent: Consent) {
  return {
    Data: {
      ConsentId: consent.id,
      ConsentType: consent.type,
      Status: consent.status,
      StatusUpdateDateTime: consent.statusUpdatedAt.toISOString(),
      StatusReason: consent.statusReason,
      CreationDateTime: consent.createdAt.toISOString(),
      ClientId: consent.clientId,
      CustomerId: consent.customerId,
      Permissions: ukPermissions(consent),
      AccountIds: consent.selectedAccountIds,
      ExpirationDateTime: consent.expiresAt?.toISOString() ?? null,
      TransactionFromDateTime: consent.transactionFrom?.toISOString() ?? null,
      TransactionToDateTime: consent.transactionTo?.toISOString() ?? null,
      DebtorAccount: ukDebtorAccount(consent),
      Initiation: consent.payment && {
        InstructionIdentification: consent.payment.instructionIdentification,
        EndToEndIdentification: consent.payment.endToEndIdentification,
        InstructedAmount: { Amount: consent.payment.amount, Currency: consent.payment.currency },
        CreditorAccount: ukCreditorAccount(consent.payment),
        ...(consent.payment.reference !== null && { RemittanceInformation: { Reference: consent.payment.reference } }),
        ...(consent.payment.creditorAgent !== null && { CreditorAgent: consent.payment.creditorAgent }),
        ...(consent.payment.requestedExecutionDate !== null && { RequestedExecutionDate: consent.payment.requestedExecutionDate }),
      },
      // Domestic VRP: the limits every payment is checked against (POST /bank/vrp-consents/:id/payments).
      ...(consent.vrp && {
        ControlParameters: consent.vrp.controlParameters,
        VrpInitiation: consent.vrp.initiation,
        VrpPurpose: purposeOf(consent.vrp),
        ...(consent.vrp.merchant && { Merchant: consent.vrp.merchant }),
      }),
      PayingAccount: consent.payingAccount,
      Standard: consent.standard,
      Access: consent.reads,
      EndedBy: consent.endedBy,
      PaymentScheme: consent.payment?.scheme ?? null,
    },
    Risk: consent.risk,
  };
}

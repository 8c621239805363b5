import type { Consent } from '../consents/consent.ts';

/** The whole consent as a resource server sees it, in UK OB field names. */
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
      Permissions: consent.permissions,
      AccountIds: consent.selectedAccountIds,
      ExpirationDateTime: consent.expiresAt?.toISOString() ?? null,
      TransactionFromDateTime: consent.transactionFrom?.toISOString() ?? null,
      TransactionToDateTime: consent.transactionTo?.toISOString() ?? null,
      DebtorAccount: consent.debtorAccount,
      Initiation: consent.payment && {
        InstructionIdentification: consent.payment.instructionIdentification,
        EndToEndIdentification: consent.payment.endToEndIdentification,
        InstructedAmount: { Amount: consent.payment.amount, Currency: consent.payment.currency },
        CreditorAccount: consent.payment.creditorAccount,
        ...(consent.payment.reference !== null && { RemittanceInformation: { Reference: consent.payment.reference } }),
      },
      // Domestic VRP: the limits every payment is checked against (POST /bank/vrp-consents/:id/payments).
      ...(consent.vrp && { ControlParameters: consent.vrp.controlParameters, VrpInitiation: consent.vrp.initiation }),
    },
    Risk: consent.risk,
  };
}

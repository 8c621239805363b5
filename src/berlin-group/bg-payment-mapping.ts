import { BgError, type BgHref } from './bg-error.ts';
import type { IbanAccountReference } from './bg-fields.ts';
import type { BgHeaders } from './bg-headers.ts';
import type { AccountReference, PaymentConsent, PaymentConsentDraft } from './bg-model.ts';
import { PAYMENT_PRODUCTS, type BgPaymentRequest, type PaymentProduct } from './bg-payment-request.ts';
import { type BgTransactionStatus, bgTransactionStatusOf } from './bg-status.ts';

/**
 * The payment initiation between the Berlin Group's words and the neutral model (bg-model.ts): the request
 * into a draft, the payment back out as the bodies of POST /v1/payments/{payment-product}, GET of the payment
 * and of its status, and whether DELETE (cancelPayment) may cancel it.
 */

const toAccount = (reference: IbanAccountReference): AccountReference => ({
  scheme: 'iban',
  identification: reference.iban,
  ...(reference.currency && { currency: reference.currency }),
});

const bgAccountOf = (account: AccountReference): IbanAccountReference => ({
  iban: account.identification,
  ...(account.currency && { currency: account.currency }),
});

export function paymentConsentDraftOf(product: PaymentProduct, request: BgPaymentRequest, headers: BgHeaders): PaymentConsentDraft {
  return {
    standard: 'berlin_group',
    scheme: PAYMENT_PRODUCTS[product],
    amount: { amount: request.instructedAmount.amount, currency: request.instructedAmount.currency },
    debtor: toAccount(request.debtorAccount),
    creditor: { ...toAccount(request.creditorAccount), name: request.creditorName },
    creditorAgent: request.creditorAgent ?? null,
    endToEndIdentification: request.endToEndIdentification ?? null,
    remittanceInformation: request.remittanceInformationUnstructured ?? null,
    requestedExecutionDate: request.requestedExecutionDate ?? null,
    redirectUri: headers.tppRedirectUri,
  };
}

const transactionStatusOf = (payment: Pick<PaymentConsent, 'status' | 'endedBy'>) => bgTransactionStatusOf(payment.status, payment.endedBy);

/** POST /v1/payments/{payment-product} 201. */
export function paymentInitiatedBody(payment: PaymentConsent, links: Record<string, BgHref>) {
  return { transactionStatus: transactionStatusOf(payment), paymentId: payment.id, _links: links };
}

/** GET /v1/payments/{payment-product}/{paymentId}: the payment as initiated, with its transaction status. */
export function paymentInformationBody(payment: PaymentConsent) {
  const { name, ...creditor } = payment.creditor;
  return {
    ...(payment.endToEndIdentification !== null && { endToEndIdentification: payment.endToEndIdentification }),
    debtorAccount: bgAccountOf(payment.debtor),
    instructedAmount: { currency: payment.amount.currency, amount: payment.amount.amount },
    creditorAccount: bgAccountOf(creditor),
    ...(payment.creditorAgent !== null && { creditorAgent: payment.creditorAgent }),
    creditorName: name,
    ...(payment.remittanceInformation !== null && { remittanceInformationUnstructured: payment.remittanceInformation }),
    ...(payment.requestedExecutionDate !== null && { requestedExecutionDate: payment.requestedExecutionDate }),
    transactionStatus: transactionStatusOf(payment),
  };
}

/** GET /v1/payments/{payment-product}/{paymentId}/status. */
export function paymentStatusBody(payment: Pick<PaymentConsent, 'status' | 'endedBy'>): { transactionStatus: BgTransactionStatus } {
  return { transactionStatus: transactionStatusOf(payment) };
}

/**
 * DELETE /v1/payments/{payment-product}/{paymentId}: a payment the customer has not authorised yet is
 * cancelled at once (204, no cancellation authorisation needed); once authorised, Assent cannot take it back
 * from the bank's execution, and an ended payment has nothing to cancel: CANCELLATION_INVALID (405, the
 * file's MessageCode405_PIS_CANC).
 */
export function assertCancellable(payment: Pick<PaymentConsent, 'status'>): void {
  if (payment.status !== 'AwaitingAuthorisation')
    throw BgError.of(
      'CANCELLATION_INVALID',
      payment.status === 'Authorised' || payment.status === 'Consumed'
        ? 'the payment is authorised and cannot be cancelled here'
        : 'the payment has ended and cannot be cancelled',
    );
}

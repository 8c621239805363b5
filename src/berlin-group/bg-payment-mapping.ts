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

/**
 * The draft of a payment as initiated: a domestic_payment consent of the model, made once, its terms in the
 * product's SEPA scheme. The customer authorises it from the debtor account named, in EUR, and Assent keeps
 * no expiry of its own: a payment awaiting the customer waits until it is authorised, rejected or cancelled,
 * as a UK single payment consent does.
 */
export function paymentConsentDraftOf(product: PaymentProduct, request: BgPaymentRequest, headers: BgHeaders): PaymentConsentDraft {
  return {
    type: 'domestic_payment',
    standard: 'berlin_group',
    reads: [],
    expiresAt: null,
    transactionFrom: null,
    transactionTo: null,
    recurring: false,
    frequencyPerDay: null,
    combinedService: false,
    redirectUri: headers.tppRedirectUri,
    payment: {
      scheme: PAYMENT_PRODUCTS[product],
      amount: request.instructedAmount.amount,
      currency: request.instructedAmount.currency,
      creditorAccount: toAccount(request.creditorAccount),
      creditorName: request.creditorName,
      reference: request.remittanceInformationUnstructured ?? null,
      instructionIdentification: null,
      endToEndIdentification: request.endToEndIdentification ?? null,
      creditorAgent: request.creditorAgent ?? null,
      requestedExecutionDate: request.requestedExecutionDate ?? null,
    },
    debtorAccount: toAccount(request.debtorAccount),
    risk: {},
    vrp: null,
  };
}

const transactionStatusOf = (payment: Pick<PaymentConsent, 'status' | 'endedBy'>) => bgTransactionStatusOf(payment.status, payment.endedBy);

/** POST /v1/payments/{payment-product} 201. */
export function paymentInitiatedBody(payment: Pick<PaymentConsent, 'id' | 'status' | 'endedBy'>, links: Record<string, BgHref>) {
  return { transactionStatus: transactionStatusOf(payment), paymentId: payment.id, _links: links };
}

/** GET /v1/payments/{payment-product}/{paymentId}: the payment as initiated, with its transaction status. */
export function paymentInformationBody(consent: PaymentConsent) {
  const { payment } = consent;
  return {
    ...(payment.endToEndIdentification !== null && { endToEndIdentification: payment.endToEndIdentification }),
    ...(consent.debtorAccount !== null && { debtorAccount: bgAccountOf(consent.debtorAccount) }),
    instructedAmount: { currency: payment.currency, amount: payment.amount },
    creditorAccount: bgAccountOf(payment.creditorAccount),
    ...(payment.creditorAgent !== null && { creditorAgent: payment.creditorAgent }),
    creditorName: payment.creditorName,
    ...(payment.reference !== null && { remittanceInformationUnstructured: payment.reference }),
    ...(payment.requestedExecutionDate !== null && { requestedExecutionDate: payment.requestedExecutionDate }),
    transactionStatus: transactionStatusOf(consent),
  };
}

/** GET /v1/payments/{payment-product}/{paymentId}/status. */
export function paymentStatusBody(payment: Pick<PaymentConsent, 'status' | 'endedBy'>): { transactionStatus: BgTransactionStatus } {
  return { transactionStatus: transactionStatusOf(payment) };
}

/**
 * DELETE /v1/payments/{payment-product}/{paymentId} of a payment no longer awaiting the customer: a payment
 * the customer has not authorised yet is cancelled at once (204, no cancellation authorisation needed); once
 * authorised, Assent cannot take it back from the bank's execution, and an ended payment has nothing to
 * cancel: CANCELLATION_INVALID (405, the file's MessageCode405_PIS_CANC).
 */
export function cancellationRefused(payment: Pick<PaymentConsent, 'status'>): BgError {
  return BgError.of(
    'CANCELLATION_INVALID',
    payment.status === 'Authorised' || payment.status === 'Consumed'
      ? 'the payment is authorised and cannot be cancelled here'
      : 'the payment has ended and cannot be cancelled',
  );
}

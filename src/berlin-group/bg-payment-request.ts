import { z } from 'zod';
import { BgError } from './bg-error.ts';
import { amount, bgIssue, ibanAccountReference, isoDate, parseBgBody, text } from './bg-fields.ts';
import type { PaymentScheme } from './bg-model.ts';

/**
 * POST /v1/payments/{payment-product}: the JSON single payment of the NextGenPSD2 guidelines (OpenAPI file
 * v1.3.11, schema `paymentInitiation_json`) for the two SEPA products Assent offers, strict: the data
 * elements the file's table gives SCT and SCT Inst (endToEndIdentification, debtorAccount, instructedAmount,
 * creditorAccount, creditorAgent, creditorName, remittanceInformationUnstructured) and requestedExecutionDate
 * for a future-dated payment. Amounts stay exact decimal strings in EUR.
 */

/** The payment products of the path, and the SEPA scheme each names. */
export const PAYMENT_PRODUCTS = {
  'sepa-credit-transfers': 'sepa_credit_transfer',
  'instant-sepa-credit-transfers': 'sepa_instant_credit_transfer',
} as const satisfies Record<string, PaymentScheme>;

export type PaymentProduct = keyof typeof PAYMENT_PRODUCTS;

/** The path's payment product, or PRODUCT_UNKNOWN (404) for any other (target-2, cross-border, pain.001 ...). */
export function paymentProductOf(value: string): PaymentProduct {
  if (Object.hasOwn(PAYMENT_PRODUCTS, value)) return value as PaymentProduct;
  throw BgError.of('PRODUCT_UNKNOWN', 'this payment product is not offered: sepa-credit-transfers or instant-sepa-credit-transfers', {
    path: 'payment-product',
  });
}

/** ISO 9362 BIC: 8 or 11 characters. */
const BIC = /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/;

/** The body's schema for `product` on the bank date `today` (also the OpenAPI document's, where the refinements do not show). */
export function paymentRequestSchema(product: PaymentProduct, today: string) {
  return z
    .strictObject(
      {
        endToEndIdentification: text('endToEndIdentification', 35).optional(),
        debtorAccount: ibanAccountReference,
        instructedAmount: z.strictObject(
          {
            currency: z.literal('EUR', { error: 'currency must be EUR for a SEPA credit transfer' }),
            amount,
          },
          { error: 'instructedAmount must be an object' },
        ),
        creditorAccount: ibanAccountReference,
        creditorAgent: z.string({ error: 'creditorAgent must be a string' }).regex(BIC, 'creditorAgent must be a BIC').optional(),
        creditorName: text('creditorName', 70),
        remittanceInformationUnstructured: text('remittanceInformationUnstructured', 140).optional(),
        requestedExecutionDate: isoDate.optional(),
      },
      { error: 'the body must be a payment initiation object' },
    )
    .superRefine((value, ctx) => {
      const date = value.requestedExecutionDate;
      if (date !== undefined && date < today)
        bgIssue(ctx, 'EXECUTION_DATE_INVALID', `requestedExecutionDate must not be before today (${today})`, ['requestedExecutionDate']);
      if (date !== undefined && date !== today && product === 'instant-sepa-credit-transfers')
        bgIssue(ctx, 'EXECUTION_DATE_INVALID', 'an instant credit transfer is executed today', ['requestedExecutionDate']);
    });
}

export type BgPaymentRequest = z.output<ReturnType<typeof paymentRequestSchema>>;

/** The payment initiation in `body` for `product` on the bank date `today`, or a BgError naming each fault. */
export function parsePaymentRequest(product: PaymentProduct, body: unknown, today: string): BgPaymentRequest {
  return parseBgBody(paymentRequestSchema(product, today), body);
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../audit/canonical-json.ts';
import type { Consent } from '../consents/consent.ts';
import type { VrpTerms } from '../consents/vrp/vrp-terms.ts';
import { AssentError } from '../protocol/assent-error.ts';

/**
 * PSD2 RTS Art. 5 (dynamic linking): the customer's approval of a payment is bound to its amount,
 * currency and payee. The digest is stored with the approval and recomputed from the consent when
 * authorising; any change to those fields, or a digest carried over to another consent, fails.
 */

export interface LinkedPayment {
  consentId: string;
  /** Decimal string as in the consent (e.g. "10.50"); compared exactly, never as a float. */
  amount: string;
  currency: string;
  payee: { name: string; schemeName: string; identification: string };
  /** A VRP consent: its limits and validity (canonical JSON); `amount` is then the maximum per payment. */
  limits?: string;
}

export class DynamicLinkBroken extends AssentError {
  override name = 'DynamicLinkBroken';
  constructor() {
    super('payment_changed', 'the payment changed after the customer approved it', { status: 403 });
  }
}

/** The payment a consent initiates, as dynamic linking binds it; undefined for consents that pay nothing. */
export function linkedPaymentOf(consent: Consent): LinkedPayment | undefined {
  if (consent.type === 'domestic_vrp' && consent.vrp) return linkedVrpOf(consent.id, consent.vrp);
  const { payment } = consent;
  if (consent.type !== 'domestic_payment' || !payment) return undefined;
  const { scheme, identification } = payment.creditorAccount;
  return {
    consentId: consent.id,
    amount: payment.amount,
    currency: payment.currency,
    payee: { name: payment.creditorName, schemeName: scheme, identification },
  };
}

/** A VRP consent's approval binds the payee and every limit: the code approves exactly what the page stated. */
function linkedVrpOf(consentId: string, terms: VrpTerms): LinkedPayment {
  const {
    MaximumIndividualAmount: maximum,
    PeriodicLimits,
    ValidFromDateTime,
    ValidToDateTime,
    VRPType,
    PSUInteractionTypes,
  } = terms.controlParameters;
  const { Name, SchemeName, Identification } = terms.initiation.CreditorAccount;
  return {
    consentId,
    amount: maximum.Amount,
    currency: maximum.Currency,
    payee: { name: Name ?? '', schemeName: SchemeName, identification: Identification },
    limits: canonicalJson({
      PeriodicLimits,
      ValidFromDateTime: ValidFromDateTime ?? null,
      ValidToDateTime: ValidToDateTime ?? null,
      VRPType,
      // Stated on the page only when given (commercial VRP): bound only then, so earlier digests stay the same.
      ...(PSUInteractionTypes && { PSUInteractionTypes }),
      ...(terms.merchant && { merchant: terms.merchant }),
    }),
  };
}

export function paymentDigest(payment: LinkedPayment): string {
  const { consentId, amount, currency, payee, limits } = payment;
  const material = canonicalJson({
    v: 1,
    consentId,
    amount,
    currency,
    payee: { name: payee.name, schemeName: payee.schemeName, identification: payee.identification },
    ...(limits !== undefined && { limits }),
  });
  return createHash('sha256').update(material).digest('base64url');
}

export function paymentDigestMatches(storedDigest: string, payment: LinkedPayment): boolean {
  const expected = Buffer.from(paymentDigest(payment));
  const stored = Buffer.from(storedDigest);
  return stored.length === expected.length && timingSafeEqual(stored, expected);
}

/** Refuses authorisation when the payment is no longer the one the customer approved. */
export function assertPaymentUnchanged(storedDigest: string, payment: LinkedPayment): void {
  if (!paymentDigestMatches(storedDigest, payment)) throw new DynamicLinkBroken();
}

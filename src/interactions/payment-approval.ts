import type { InteractionResults } from 'oidc-provider';
import type { Consent } from '../consents/consent.ts';
import { assertPaymentUnchanged, DynamicLinkBroken, linkedPaymentOf, paymentDigest, paymentDigestMatches } from './dynamic-linking.ts';

/**
 * PSD2 dynamic linking across the steps of one authorization: the one-time-code step shows the
 * payment and, when the code is right, records the digest of what it showed in the login result
 * (server-side, in the provider's Interaction); the consent step carries it over (it merges with the
 * last submission) and authorises only while the consent still has that digest.
 */

export interface PaymentApproval {
  consentId: string;
  digest: string;
}

const RESULT_KEY = 'paymentApproval';

/** Consents whose approval is dynamically linked: a single payment, or the limits of VRP payments. */
const LINKED: ReadonlySet<Consent['type']> = new Set(['domestic_payment', 'domestic_vrp']);

/** The payment (or VRP) consent an authorization asks the customer to approve, if it is one. */
export function paymentOf(consent: Consent | undefined): Consent | undefined {
  return consent && LINKED.has(consent.type) ? consent : undefined;
}

/** The extra login-result entry for a payment approved with the second factor. */
export function approvalResult(payment: Consent): InteractionResults {
  const linked = linkedPaymentOf(payment);
  if (!linked) throw new Error('only a payment consent can be approved with dynamic linking');
  const approval: PaymentApproval = { consentId: payment.id, digest: paymentDigest(linked) };
  return { [RESULT_KEY]: approval };
}

function approvalIn(lastSubmission: InteractionResults | undefined): PaymentApproval | undefined {
  const stored = lastSubmission?.[RESULT_KEY] as Partial<PaymentApproval> | undefined;
  return typeof stored?.consentId === 'string' && typeof stored.digest === 'string'
    ? { consentId: stored.consentId, digest: stored.digest }
    : undefined;
}

/**
 * What authorising `consent` must re-check against the locked consent row: nothing for consents that
 * pay nothing; for a payment, the approval of this very consent with an unchanged digest.
 */
export function approvalToVerify(consent: Consent, lastSubmission: InteractionResults | undefined) {
  if (!linkedPaymentOf(consent)) return undefined;
  const approval = approvalIn(lastSubmission);
  if (!approval || approval.consentId !== consent.id) throw new DynamicLinkBroken();
  return {
    digest: approval.digest,
    verify(locked: Consent) {
      const linked = linkedPaymentOf(locked);
      if (!linked) throw new DynamicLinkBroken();
      assertPaymentUnchanged(approval.digest, linked);
    },
  };
}

/** Whether authorising `consent` now would pass the dynamic-linking check (for showing the page). */
export function approvalHolds(consent: Consent, lastSubmission: InteractionResults | undefined): boolean {
  const linked = linkedPaymentOf(consent);
  if (!linked) return true;
  const approval = approvalIn(lastSubmission);
  return approval?.consentId === consent.id && paymentDigestMatches(approval.digest, linked);
}

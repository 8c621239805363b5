import type { Consent, PaymentTerms } from '../consents/consent.ts';
import type { ObAccountReference } from '../db/schema.ts';
import { toObAccount } from './account-references.ts';
import { type ObPermission, permissionsOfReads } from './permissions.ts';

/**
 * The model back out in UK OB v3.1's words: what the consent API answers (consent-api/ob-responses.ts),
 * and the UK-named fields the bank API and introspection keep for the resource servers that read them.
 */

/** A consent's reads as UK permissions, in the order asked (a UK consent's, exactly as the TPP sent them). */
export function ukPermissions(consent: Pick<Consent, 'reads'>): ObPermission[] {
  return permissionsOfReads(consent.reads);
}

/** The payee as UK OB's CreditorAccount, its Name the creditor's name. */
export function ukCreditorAccount(payment: PaymentTerms): ObAccountReference {
  return toObAccount(payment.creditorAccount, payment.creditorName === '' ? undefined : payment.creditorName);
}

/** The account to pay from or check funds on, as UK OB's DebtorAccount; null when the consent names none. */
export function ukDebtorAccount(consent: Pick<Consent, 'debtorAccount'>): ObAccountReference | null {
  return consent.debtorAccount && toObAccount(consent.debtorAccount);
}

import type { Consent, ObAccountReference } from '../consents/consent.ts';
import type { BankAccount } from '../customers/account-directory.ts';

/**
 * The customer's accounts a consent can use: any of them to read; for a payment or a funds check the
 * account the consent names, or else those that can pay in the payment's currency (not a card).
 */

const isNamed = (account: BankAccount, named: ObAccountReference) => account.schemeName === named.SchemeName && account.identification === named.Identification;

export function accountChoices(consent: Consent, accounts: readonly BankAccount[]): BankAccount[] {
  if (consent.type === 'account_access') return [...accounts];
  const named = consent.debtorAccount;
  if (named) return accounts.filter((account) => isNamed(account, named));
  const currency = consent.payment?.currency ?? consent.vrp?.controlParameters.MaximumIndividualAmount.Currency;
  return accounts.filter((account) => account.accountSubtype !== 'CreditCard' && (currency === undefined || account.currency === currency));
}

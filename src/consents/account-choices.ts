import { accountReferenceOf, type BankAccount } from '../customers/account-directory.ts';
import type { ObAccountReference } from '../db/schema.ts';
import { type AccountReference, type Consent, sameAccount } from './consent.ts';

/**
 * Which of the customer's accounts a consent can use: to read, any of them, or only those its reads name
 * when they name accounts (a Berlin Group consent's IBANs); to pay or to check funds,
 * the account the consent names (else any that is not a card), only in the payment's currency, and
 * never the account the money goes to (a sweeping VRP from the saver it sweeps into would move nothing).
 * The pages offer exactly these, and the consent service refuses any other, so the two cannot disagree.
 */

type ConsentTerms = Pick<Consent, 'type' | 'debtorAccount' | 'payment' | 'vrp' | 'reads'>;

const isAccount = (account: BankAccount, reference: AccountReference) => sameAccount(accountReferenceOf(account), reference);

/** A VRP consent's creditor is still stored in UK OB's shape, as the directory stores its schemes. */
const isVrpAccount = (account: BankAccount, reference: ObAccountReference) =>
  account.schemeName === reference.SchemeName && account.identification === reference.Identification;

/**
 * The accounts a consent's reads name, each once; undefined when the customer chooses them (no read
 * names any: UK consents, Berlin Group's availableAccounts, allPsd2 and empty lists).
 */
export function namedAccounts(consent: Pick<Consent, 'reads'>): AccountReference[] | undefined {
  const named: AccountReference[] = [];
  for (const read of consent.reads)
    for (const account of read.accounts ?? []) if (!named.some((seen) => sameAccount(seen, account))) named.push(account);
  return named.length > 0 ? named : undefined;
}

/**
 * Whether paying from this account would pay it into itself: it is the payee's account (for a sweeping
 * VRP, the account the money is swept into). The pages name this case to the customer; the service
 * refuses it, and the bank's VRP payment decision refuses it again against the account recorded at
 * authorisation (vrp-payment-service.ts).
 */
export function paysIntoItself(consent: ConsentTerms, account: BankAccount): boolean {
  if (consent.payment) return isAccount(account, consent.payment.creditorAccount);
  const vrpCreditor = consent.vrp?.initiation.CreditorAccount;
  return vrpCreditor !== undefined && isVrpAccount(account, vrpCreditor);
}

export function canUseAccount(consent: ConsentTerms, account: BankAccount): boolean {
  if (consent.type === 'account_access') {
    const named = namedAccounts(consent);
    return named === undefined || named.some((reference) => isAccount(account, reference));
  }
  const named = consent.debtorAccount;
  if (named ? !isAccount(account, named) : account.accountSubtype === 'CreditCard') return false;
  const currency = consent.payment?.currency ?? consent.vrp?.controlParameters.MaximumIndividualAmount.Currency;
  if (currency !== undefined && account.currency !== currency) return false;
  return !paysIntoItself(consent, account);
}

export function accountChoices(consent: ConsentTerms, accounts: readonly BankAccount[]): BankAccount[] {
  return accounts.filter((account) => canUseAccount(consent, account));
}

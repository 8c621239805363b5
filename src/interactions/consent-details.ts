import { namedAccounts } from '../consents/account-choices.ts';
import { type Consent, readScopesOf } from '../consents/consent.ts';
import { purposeOf, vrpFacts } from '../consents/vrp/vrp-terms.ts';
import { readFrequencyWords } from '../wording/frequency.ts';
import { type VrpWording, vrpWording } from '../wording/vrp.ts';
import type { BankAccount } from '../customers/account-directory.ts';
import { type PermissionGroup, permissionGroups } from '../wording/permissions.ts';
import { httpsLogo, type Wording } from '../wording/wording.ts';

/** What the consent and one-time-code pages show about a consent, in the customer's words (src/wording/). */

export interface PaymentDetails {
  amount: string;
  currency: string;
  payee: string;
  payeeAccount: string;
  reference: string | undefined;
  /** A SEPA payment's kind (instant or not); a UK payment moves only one way, so it says none. */
  kind: string | undefined;
  /** The payee's bank (its BIC), when the payment names it. */
  payeeBank: string | undefined;
  /** The date a future-dated payment is made on; none: as soon as it is approved. */
  executionDate: string | undefined;
}

export function paymentDetails(w: Wording, consent: Consent): PaymentDetails | undefined {
  const payment = consent.payment;
  if (!payment) return undefined;
  const { scheme, identification } = payment.creditorAccount;
  return {
    amount: w.money(payment.amount, payment.currency),
    currency: w.currencyName(payment.currency),
    payee: payment.creditorName || w.t('payment.noPayeeName'),
    // The payee is not the customer's: its full number is what the customer checks before paying.
    payeeAccount: w.accountNumber(scheme, identification),
    reference: payment.reference ?? undefined,
    kind: payment.scheme === 'uk_domestic' ? undefined : w.t(`payment.kind.${payment.scheme}`),
    payeeBank: payment.creditorAgent === null ? undefined : w.t('account.bic', { bic: payment.creditorAgent }),
    executionDate: payment.requestedExecutionDate === null ? undefined : w.calendarDay(payment.requestedExecutionDate),
  };
}

function duration(w: Wording, consent: Consent): string {
  if (consent.type === 'domestic_payment') return w.t('consent.duration.payment');
  return consent.expiresAt ? w.t('consent.duration.until', { date: w.day(consent.expiresAt) }) : w.t('consent.duration.open');
}

/** The accounts a consent names, each by its full number (the customer checks them), or undefined when the customer picks. */
export function namedAccountNumbers(w: Wording, consent: Pick<Consent, 'reads'>): string[] | undefined {
  return namedAccounts(consent)?.map((account) => w.accountNumber(account.scheme, account.identification));
}

/** A VRP consent's limits in words, for the consent and one-time-code pages. */
export function vrpDetails(w: Wording, consent: Consent): VrpWording | undefined {
  return consent.vrp ? vrpWording(w, vrpFacts(consent.vrp, consent.createdAt)) : undefined;
}

/**
 * What the page says the consent asks for. A commercial VRP names the merchant it pays ("take payments
 * for Acme Streaming"); a sweeping one keeps the VRP heading and is called moving money between the
 * customer's own accounts beside its payee (wording/vrp.ts).
 */
function headingOf(w: Wording, consent: Consent, tppName: string): string {
  const merchant = consent.vrp?.merchant;
  if (consent.vrp && purposeOf(consent.vrp) === 'commercial' && merchant)
    return w.t('consent.heading.commercialVrp', { tpp: tppName, merchant: merchant.name });
  return w.t(`consent.heading.${consent.type}`, { tpp: tppName });
}

/** The customer's own account the money goes to is never offered to pay from; the page says why it is missing. */
function destinationHint(w: Wording, consent: Consent, destination: BankAccount | undefined): string | undefined {
  if (!destination) return undefined;
  const account = w.accountLabel(destination);
  return consent.vrp && purposeOf(consent.vrp) === 'sweeping'
    ? w.t('consent.choose.notDestination', { account })
    : w.t('consent.choose.notPayee', { account });
}

/** The customer chose (by a stale or crafted form) the account the money goes to. */
export function paidIntoItself(w: Wording, consent: Consent, destination: BankAccount): string {
  const account = w.accountLabel(destination);
  return consent.vrp && purposeOf(consent.vrp) === 'sweeping'
    ? w.t('consent.error.sweepIntoItself', { account })
    : w.t('consent.error.payIntoItself', { account });
}

export interface ConsentDetails {
  heading: string;
  permissionGroups: PermissionGroup[];
  duration: string;
  payment: PaymentDetails | undefined;
  vrp: VrpWording | undefined;
  debtorAccount: string | undefined;
  /** The accounts the consent names (only these may be chosen); undefined when the customer chooses among all. */
  namedAccounts: string[] | undefined;
  /** How often it may be used without the customer (Berlin Group's frequencyPerDay); undefined without a limit. */
  frequency: string | undefined;
  /** Reading may cover several accounts; paying or checking funds uses exactly one. */
  multiple: boolean;
  legend: string;
  /** How many to pick, when it is not obvious: "at least one" only where several may be chosen. */
  hint: string | undefined;
  /** Why the customer's account the money goes to is not among the choices, when they hold it. */
  destination: string | undefined;
  accounts: { id: string; label: string; checked: boolean }[];
}

/**
 * `choices` are the customer's accounts this consent can use (consents/account-choices.ts);
 * `destination` the customer's account the money goes to, when they hold it.
 */
export function consentDetails(
  w: Wording,
  consent: Consent,
  tppName: string,
  choices: readonly BankAccount[],
  destination?: BankAccount,
): ConsentDetails {
  const multiple = consent.type === 'account_access';
  return {
    heading: headingOf(w, consent, tppName),
    permissionGroups: permissionGroups(w, readScopesOf(consent), { from: consent.transactionFrom, to: consent.transactionTo }),
    duration: duration(w, consent),
    payment: paymentDetails(w, consent),
    vrp: vrpDetails(w, consent),
    debtorAccount: consent.debtorAccount
      ? w.accountLabel({ name: consent.debtorAccount.name, identification: consent.debtorAccount.identification })
      : undefined,
    namedAccounts: namedAccountNumbers(w, consent),
    frequency: readFrequencyWords(w, { ...consent, reads: consent.type === 'account_access' }, tppName),
    multiple,
    legend: w.t(multiple ? 'consent.choose.many' : consent.payment || consent.vrp ? 'consent.choose.payFrom' : 'consent.choose.one'),
    hint: multiple ? w.t('consent.choose.manyHint') : choices.length > 1 ? w.t('consent.choose.oneHint') : undefined,
    destination: destinationHint(w, consent, destination),
    accounts: choices.map((account) => ({
      id: account.id,
      label: w.t('consent.accountChoice', { account: w.accountLabel(account), currency: account.currency }),
      // A single account to pay from is the only choice there is; accounts a consent names are what it asks for.
      checked: (!multiple && choices.length === 1) || (multiple && namedAccounts(consent) !== undefined),
    })),
  };
}

/** The error when the customer approved without a valid choice: "at least one" only where several may be chosen. */
export function noAccountChosen(w: Wording, consent: Consent): string {
  if (consent.type === 'account_access') return w.t('consent.error.chooseMany');
  return w.t(consent.payment ? 'consent.error.choosePayFrom' : 'consent.error.chooseOne');
}

export interface TppOnPage {
  name: string;
  logoUri: string | undefined;
  /** The bank's own client (the consent dashboard): the sign-in pages speak as the bank, not of a TPP. */
  bankOwn: boolean;
}

export function tppOnPage(
  display: { name: string; logoUri: string | null; bankOwn: boolean } | undefined,
  fallbackName: string,
): TppOnPage {
  return { name: display?.name ?? fallbackName, logoUri: httpsLogo(display?.logoUri), bankOwn: display?.bankOwn ?? false };
}

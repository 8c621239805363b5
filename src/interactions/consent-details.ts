import type { Consent, ObAccountReference } from '../consents/consent.ts';
import { formatDay, type PermissionGroup, permissionGroups } from '../consents/permission-groups.ts';
import { validFrom } from '../consents/vrp/vrp-terms.ts';
import { type VrpWording, vrpWording } from '../consents/vrp/vrp-wording.ts';
import type { BankAccount } from '../customers/account-directory.ts';

/** What the consent and one-time-code pages show about a consent, in plain terms; the views escape every value. */

/** Completes "<TPP> wants to ...". */
const PURPOSES: Record<Consent['type'], string> = {
  account_access: 'see information about your accounts',
  domestic_payment: 'make a payment from your account',
  funds_confirmation: 'check that your account has enough money for a payment',
  domestic_vrp: 'make payments from your account whenever needed, within the limits below',
};

/** Sort code and account number or IBAN as printed on a statement; other schemes as given. */
export function accountNumber(schemeName: string, identification: string): string {
  if (schemeName === 'UK.OBIE.SortCodeAccountNumber' && /^\d{14}$/.test(identification)) {
    return `sort code ${identification.slice(0, 2)}-${identification.slice(2, 4)}-${identification.slice(4, 6)}, account ${identification.slice(6)}`;
  }
  if (schemeName === 'UK.OBIE.IBAN') return `IBAN ${identification.replace(/(.{4})(?=.)/g, '$1 ')}`;
  return identification;
}

const CURRENCY_NAMES = new Intl.DisplayNames('en-GB', { type: 'currency' });

/** The amount stays the consent's decimal string (never a float); only the currency's symbol is added. */
function amountWithSymbol(amount: string, currency: string) {
  const symbol = new Intl.NumberFormat('en-GB', { style: 'currency', currency }).formatToParts(0).find((part) => part.type === 'currency')?.value;
  return symbol && symbol !== currency ? `${symbol}${amount}` : `${amount} ${currency}`;
}

export interface PaymentDetails {
  amount: string;
  currency: string;
  payee: string;
  payeeAccount: string;
  reference: string | undefined;
}

export function paymentDetails(consent: Consent): PaymentDetails | undefined {
  const payment = consent.payment;
  if (!payment) return undefined;
  const { Name, SchemeName, Identification } = payment.creditorAccount;
  return {
    amount: amountWithSymbol(payment.amount, payment.currency),
    currency: `${payment.currency} (${CURRENCY_NAMES.of(payment.currency) ?? payment.currency})`,
    payee: Name ?? 'No name given',
    payeeAccount: accountNumber(SchemeName, Identification),
    reference: payment.reference ?? undefined,
  };
}

/** A VRP consent's limits in words, for the consent and one-time-code pages. */
export function vrpDetails(consent: Consent): VrpWording | undefined {
  return consent.vrp ? vrpWording(consent.vrp, validFrom(consent.vrp, consent.createdAt)) : undefined;
}

function duration(consent: Consent): string {
  if (consent.type === 'domestic_payment') return 'For this one payment only.';
  return consent.expiresAt ? `Until ${formatDay(consent.expiresAt)}, unless you cancel it sooner.` : 'Until you cancel it.';
}

const named = (account: ObAccountReference) => `${account.Name ? `${account.Name}, ` : ''}${accountNumber(account.SchemeName, account.Identification)}`;

export interface ConsentDetails {
  purpose: string;
  permissionGroups: PermissionGroup[];
  duration: string;
  payment: PaymentDetails | undefined;
  vrp: VrpWording | undefined;
  debtorAccount: string | undefined;
  /** Reading may cover several accounts; paying or checking funds uses exactly one. */
  multiple: boolean;
  accounts: { id: string; label: string; checked: boolean }[];
}

/** `choices` are the customer's accounts this consent can use (account-choices.ts). */
export function consentDetails(consent: Consent, choices: readonly BankAccount[]): ConsentDetails {
  const multiple = consent.type === 'account_access';
  return {
    purpose: PURPOSES[consent.type],
    permissionGroups: permissionGroups(consent.permissions, { from: consent.transactionFrom, to: consent.transactionTo }),
    duration: duration(consent),
    payment: paymentDetails(consent),
    vrp: vrpDetails(consent),
    debtorAccount: consent.debtorAccount ? named(consent.debtorAccount) : undefined,
    multiple,
    accounts: choices.map((account) => ({
      id: account.id,
      label: `${account.name}, ${accountNumber(account.schemeName, account.identification)} (${account.currency})`,
      // A single account to pay from is the only choice there is.
      checked: !multiple && choices.length === 1,
    })),
  };
}

export interface TppOnPage {
  name: string;
  /** Only https logos are shown: anything else would be mixed content or a local resource. */
  logoUri: string | undefined;
}

export function tppOnPage(display: { name: string; logoUri: string | null } | undefined, fallbackName: string): TppOnPage {
  const logo = display?.logoUri;
  const https = logo && URL.canParse(logo) && new URL(logo).protocol === 'https:';
  return { name: display?.name ?? fallbackName, logoUri: https ? logo : undefined };
}

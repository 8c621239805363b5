import type { Consent } from '../consents/consent.ts';
import { permissionWording } from '../consents/permission-wording.ts';
import type { BankAccount } from '../customers/account-directory.ts';

/** What the consent page shows about a consent, in plain terms; every value is escaped by the view. */

const TITLES: Record<Consent['type'], string> = {
  account_access: 'See information about your accounts',
  domestic_payment: 'Make a payment from your account',
  funds_confirmation: 'Check that your account has enough money for a payment',
};

const day = (date: Date | null) => (date === null ? undefined : date.toISOString().slice(0, 10));

export function consentDetails(consent: Consent, accounts: BankAccount[]) {
  const payment = consent.payment;
  return {
    id: consent.id,
    title: TITLES[consent.type],
    // The same wording as the consent dashboard, so the customer reads the same thing there later.
    permissions: consent.permissions.map((code) => ({ code, ...permissionWording(code) })),
    expires: day(consent.expiresAt),
    transactionsFrom: day(consent.transactionFrom),
    transactionsTo: day(consent.transactionTo),
    payment: payment && {
      amount: `${payment.amount} ${payment.currency}`,
      payee: payment.creditorAccount.Name ?? '',
      payeeAccount: payment.creditorAccount.Identification,
      reference: payment.reference ?? '',
    },
    debtorAccount: consent.debtorAccount && `${consent.debtorAccount.Name ?? ''} ${consent.debtorAccount.Identification}`.trim(),
    // Reading may cover several accounts; paying or checking funds uses exactly one.
    multiple: consent.type === 'account_access',
    accounts: accounts.map((account) => ({ id: account.id, label: `${account.name} (${account.identification}, ${account.currency})` })),
  };
}

/**
 * What each UK Open Banking permission lets a TPP see, in the customer's words. The consent page and
 * the consent dashboard both read it from here, so the customer is told the same thing when granting
 * access and when reviewing it later.
 */

export interface PermissionWording {
  title: string;
  detail: string;
}

const WORDING = {
  ReadAccountsBasic: { title: 'Your account names and currencies', detail: 'The names, types and currencies of the accounts you choose.' },
  ReadAccountsDetail: { title: 'Your account details', detail: 'Account names, types and currencies, and the sort codes and account numbers or IBANs.' },
  ReadBalances: { title: 'Your balances', detail: 'How much money is in each account, including any overdraft or credit limit.' },
  ReadBeneficiariesBasic: { title: 'Your payees', detail: 'The names of the people and businesses you have saved as payees.' },
  ReadBeneficiariesDetail: { title: 'Your payees and their account details', detail: 'Your saved payees with their sort codes and account numbers or IBANs.' },
  ReadDirectDebits: { title: 'Your Direct Debits', detail: 'Who you pay by Direct Debit, and the amount and date of the last payment.' },
  ReadOffers: { title: 'Offers from the bank', detail: 'Offers the bank has made to you, such as balance transfers or limit increases.' },
  ReadPAN: { title: 'Your full card numbers', detail: 'The full 16-digit numbers of cards linked to the accounts, instead of a masked version.' },
  ReadParty: { title: 'Account holder details', detail: 'The names, addresses and contact details of the account holders.' },
  ReadPartyPSU: { title: 'Your personal details', detail: 'Your name, address, email and phone number as the bank holds them.' },
  ReadProducts: { title: 'Your product details', detail: 'The product each account belongs to, with its fees, charges and interest rates.' },
  ReadScheduledPaymentsBasic: { title: 'Your scheduled payments', detail: 'Future-dated payments you have set up, with amounts and dates.' },
  ReadScheduledPaymentsDetail: { title: 'Your scheduled payments and payee details', detail: 'Future-dated payments with the payees’ sort codes and account numbers or IBANs.' },
  ReadStandingOrdersBasic: { title: 'Your standing orders', detail: 'Your standing orders, with their amounts, frequency and next payment date.' },
  ReadStandingOrdersDetail: { title: 'Your standing orders and payee details', detail: 'Your standing orders with the payees’ sort codes and account numbers or IBANs.' },
  ReadStatementsBasic: { title: 'Your statements', detail: 'Your statements with their dates and totals, without the amounts of each entry.' },
  ReadStatementsDetail: { title: 'Your statements in full', detail: 'Your full statements, including every amount and the balance on each statement.' },
  ReadTransactionsBasic: { title: 'Your transactions', detail: 'The date, amount and description of each transaction.' },
  ReadTransactionsCredits: { title: 'Money coming in', detail: 'Payments into your accounts.' },
  ReadTransactionsDebits: { title: 'Money going out', detail: 'Payments out of your accounts.' },
  ReadTransactionsDetail: { title: 'Your transactions in full', detail: 'Everything about each transaction, including the other party’s details and the running balance.' },
} as const satisfies Record<string, PermissionWording>;

export type WordedPermission = keyof typeof WORDING;

/** The customer-facing wording of a permission; an unknown code is shown as itself, never hidden. */
export function permissionWording(permission: string): PermissionWording {
  return Object.hasOwn(WORDING, permission)
    ? WORDING[permission as WordedPermission]
    : { title: permission, detail: 'A permission this page does not describe yet. Ask the bank what it allows.' };
}

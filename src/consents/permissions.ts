/** The UK Open Banking v3.1 account-access permission codes; nothing else is accepted. */
export const OB_PERMISSIONS = [
  'ReadAccountsBasic',
  'ReadAccountsDetail',
  'ReadBalances',
  'ReadBeneficiariesBasic',
  'ReadBeneficiariesDetail',
  'ReadDirectDebits',
  'ReadOffers',
  'ReadPAN',
  'ReadParty',
  'ReadPartyPSU',
  'ReadProducts',
  'ReadScheduledPaymentsBasic',
  'ReadScheduledPaymentsDetail',
  'ReadStandingOrdersBasic',
  'ReadStandingOrdersDetail',
  'ReadStatementsBasic',
  'ReadStatementsDetail',
  'ReadTransactionsBasic',
  'ReadTransactionsCredits',
  'ReadTransactionsDebits',
  'ReadTransactionsDetail',
] as const;

export type ObPermission = (typeof OB_PERMISSIONS)[number];

/** Why a set of permissions is not a coherent request, or undefined when it is. */
export function permissionSetProblem(permissions: readonly ObPermission[]): string | undefined {
  const has = (permission: ObPermission) => permissions.includes(permission);
  if (new Set(permissions).size !== permissions.length) return 'Permissions must not repeat a permission';
  if (!has('ReadAccountsBasic') && !has('ReadAccountsDetail')) return 'Permissions must include ReadAccountsBasic or ReadAccountsDetail';
  const transactionLevel = has('ReadTransactionsBasic') || has('ReadTransactionsDetail');
  const transactionDirection = has('ReadTransactionsCredits') || has('ReadTransactionsDebits');
  if (transactionLevel && !transactionDirection)
    return 'ReadTransactionsBasic or ReadTransactionsDetail needs ReadTransactionsCredits or ReadTransactionsDebits';
  if (transactionDirection && !transactionLevel)
    return 'ReadTransactionsCredits or ReadTransactionsDebits needs ReadTransactionsBasic or ReadTransactionsDetail';
  return undefined;
}

import type { ReadAccess, ReadScope } from '../protocol/consent-types.ts';

/**
 * UK Open Banking v3.1's account-access permissions, the rules a set of them must follow, and their
 * one-to-one mapping to the model's read scopes (protocol/consent-types.ts READ_SCOPES), both ways.
 */

/** The permission behind each read scope; the mapping is one-to-one, so nothing is lost either way. */
const PERMISSION_OF = {
  'accounts.basic': 'ReadAccountsBasic',
  'accounts.detail': 'ReadAccountsDetail',
  balances: 'ReadBalances',
  'beneficiaries.basic': 'ReadBeneficiariesBasic',
  'beneficiaries.detail': 'ReadBeneficiariesDetail',
  direct_debits: 'ReadDirectDebits',
  offers: 'ReadOffers',
  pan: 'ReadPAN',
  party: 'ReadParty',
  party_psu: 'ReadPartyPSU',
  products: 'ReadProducts',
  'scheduled_payments.basic': 'ReadScheduledPaymentsBasic',
  'scheduled_payments.detail': 'ReadScheduledPaymentsDetail',
  'standing_orders.basic': 'ReadStandingOrdersBasic',
  'standing_orders.detail': 'ReadStandingOrdersDetail',
  'statements.basic': 'ReadStatementsBasic',
  'statements.detail': 'ReadStatementsDetail',
  'transactions.basic': 'ReadTransactionsBasic',
  'transactions.credits': 'ReadTransactionsCredits',
  'transactions.debits': 'ReadTransactionsDebits',
  'transactions.detail': 'ReadTransactionsDetail',
} as const satisfies Record<ReadScope, `Read${string}`>;

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

const SCOPE_OF = Object.fromEntries(Object.entries(PERMISSION_OF).map(([scope, permission]) => [permission, scope])) as Record<
  ObPermission,
  ReadScope
>;

export function readScopeOf(permission: ObPermission): ReadScope {
  return SCOPE_OF[permission];
}

export function permissionOf(scope: ReadScope): ObPermission {
  return PERMISSION_OF[scope];
}

/** UK consents read the accounts the customer chooses while authorising: every read names none. */
export function readsOfPermissions(permissions: readonly ObPermission[]): ReadAccess[] {
  return permissions.map((permission) => ({ scope: readScopeOf(permission), accounts: null }));
}

/** The permissions a consent's reads come to, in the order asked. */
export function permissionsOfReads(reads: readonly ReadAccess[]): ObPermission[] {
  return reads.map((read) => permissionOf(read.scope));
}

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

import type { ObPermission } from './permissions.ts';
import { type PermissionWording, permissionWording } from './permission-wording.ts';

/**
 * Permissions grouped the way customers think about their accounts ("Your balances", "Your
 * transactions from 1 Jan 2026 to 30 Jun 2026"), each group listing its permissions in the words of
 * permission-wording.ts. Groups come in a fixed order; a group none of whose permissions is asked
 * for is left out.
 */

export interface PermissionGroup {
  heading: string;
  permissions: PermissionWording[];
}

export interface TransactionWindow {
  from: Date | null;
  to: Date | null;
}

/** Dates as UK customers write them ("1 Jan 2026"), in the bank's time zone. */
const DAY = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'Europe/London' });

export const formatDay = (date: Date) => DAY.format(date);

function windowPhrase({ from, to }: TransactionWindow): string {
  if (from && to) return ` from ${formatDay(from)} to ${formatDay(to)}`;
  if (from) return ` from ${formatDay(from)}`;
  if (to) return ` up to ${formatDay(to)}`;
  return '';
}

const GROUPS: readonly { heading: (window: TransactionWindow) => string; members: readonly ObPermission[] }[] = [
  { heading: () => 'Your account details', members: ['ReadAccountsBasic', 'ReadAccountsDetail', 'ReadPAN'] },
  { heading: () => 'Your balances', members: ['ReadBalances'] },
  {
    heading: (window) => `Your transactions${windowPhrase(window)}`,
    members: ['ReadTransactionsBasic', 'ReadTransactionsDetail', 'ReadTransactionsCredits', 'ReadTransactionsDebits'],
  },
  { heading: (window) => `Your statements${windowPhrase(window)}`, members: ['ReadStatementsBasic', 'ReadStatementsDetail'] },
  {
    heading: () => 'Your direct debits, standing orders and scheduled payments',
    members: ['ReadDirectDebits', 'ReadStandingOrdersBasic', 'ReadStandingOrdersDetail', 'ReadScheduledPaymentsBasic', 'ReadScheduledPaymentsDetail'],
  },
  { heading: () => 'Your payees', members: ['ReadBeneficiariesBasic', 'ReadBeneficiariesDetail'] },
  { heading: () => 'Your personal details', members: ['ReadPartyPSU', 'ReadParty'] },
  { heading: () => 'Your products and offers', members: ['ReadProducts', 'ReadOffers'] },
];

export function permissionGroups(permissions: readonly ObPermission[], window: TransactionWindow): PermissionGroup[] {
  const asked = new Set(permissions);
  return GROUPS.flatMap(({ heading, members }) => {
    const present = members.filter((permission) => asked.has(permission));
    return present.length === 0 ? [] : [{ heading: heading(window), permissions: present.map(permissionWording) }];
  });
}

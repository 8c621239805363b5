import { isMessageKey, type MessageKey } from './messages.ts';
import type { Wording } from './wording.ts';

/**
 * What each UK Open Banking permission lets a TPP see, in the customer's words, alone (the dashboard)
 * or grouped the way customers think about their accounts (the consent page: "Your transactions from
 * 1 January 2026 to 30 June 2026"). Groups come in a fixed order; a group none of whose permissions is
 * asked for is left out. The sentences are the catalogues' `permission.<code>.*` and `group.*`.
 */

export interface PermissionWording {
  title: string;
  detail: string;
}

export interface PermissionGroup {
  heading: string;
  permissions: PermissionWording[];
}

export interface TransactionWindow {
  from: Date | null;
  to: Date | null;
}

/** An unknown code is shown as itself, never hidden. */
export function permissionWording(w: Wording, permission: string): PermissionWording {
  const title = `permission.${permission}.title`;
  const detail = `permission.${permission}.detail`;
  if (isMessageKey(title) && isMessageKey(detail)) return { title: w.t(title), detail: w.t(detail) };
  return { title: permission, detail: w.t('permission.unknown.detail') };
}

type Windowed = 'group.transactions' | 'group.statements';

function windowed(w: Wording, key: Windowed, { from, to }: TransactionWindow): string {
  if (from && to) return w.t(`${key}FromTo`, { from: w.day(from), to: w.day(to) });
  if (from) return w.t(`${key}From`, { from: w.day(from) });
  if (to) return w.t(`${key}To`, { to: w.day(to) });
  return w.t(key);
}

const GROUPS: readonly { heading: MessageKey; windowed?: true; members: readonly string[] }[] = [
  { heading: 'group.accounts', members: ['ReadAccountsBasic', 'ReadAccountsDetail', 'ReadPAN'] },
  { heading: 'group.balances', members: ['ReadBalances'] },
  {
    heading: 'group.transactions',
    windowed: true,
    members: ['ReadTransactionsBasic', 'ReadTransactionsDetail', 'ReadTransactionsCredits', 'ReadTransactionsDebits'],
  },
  { heading: 'group.statements', windowed: true, members: ['ReadStatementsBasic', 'ReadStatementsDetail'] },
  {
    heading: 'group.regular',
    members: [
      'ReadDirectDebits',
      'ReadStandingOrdersBasic',
      'ReadStandingOrdersDetail',
      'ReadScheduledPaymentsBasic',
      'ReadScheduledPaymentsDetail',
    ],
  },
  { heading: 'group.payees', members: ['ReadBeneficiariesBasic', 'ReadBeneficiariesDetail'] },
  { heading: 'group.personal', members: ['ReadPartyPSU', 'ReadParty'] },
  { heading: 'group.products', members: ['ReadProducts', 'ReadOffers'] },
];

export function permissionGroups(w: Wording, permissions: readonly string[], window: TransactionWindow): PermissionGroup[] {
  const asked = new Set(permissions);
  return GROUPS.flatMap((group) => {
    const present = group.members.filter((permission) => asked.has(permission));
    if (present.length === 0) return [];
    const heading = group.windowed ? windowed(w, group.heading as Windowed, window) : w.t(group.heading);
    return [{ heading, permissions: present.map((permission) => permissionWording(w, permission)) }];
  });
}

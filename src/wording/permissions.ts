import { isMessageKey, type MessageKey } from './messages.ts';
import type { Wording } from './wording.ts';

/**
 * What each read scope of the consent model (`accounts.basic`, `transactions.credits`, ...; whatever
 * standard the TPP asked in) lets a TPP see, in the customer's words, alone (the dashboard) or grouped
 * the way customers think about their accounts (the consent page: "Your transactions from 1 January
 * 2026 to 30 June 2026"). Groups come in a fixed order; a group none of whose scopes is asked for is
 * left out. The sentences are the catalogues' `read.<scope>.*` and `group.*`.
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

/** An unknown scope is shown as itself, never hidden. */
export function permissionWording(w: Wording, scope: string): PermissionWording {
  const title = `read.${scope}.title`;
  const detail = `read.${scope}.detail`;
  if (isMessageKey(title) && isMessageKey(detail)) return { title: w.t(title), detail: w.t(detail) };
  return { title: scope, detail: w.t('read.unknown.detail') };
}

type Windowed = 'group.transactions' | 'group.statements';

function windowed(w: Wording, key: Windowed, { from, to }: TransactionWindow): string {
  if (from && to) return w.t(`${key}FromTo`, { from: w.day(from), to: w.day(to) });
  if (from) return w.t(`${key}From`, { from: w.day(from) });
  if (to) return w.t(`${key}To`, { to: w.day(to) });
  return w.t(key);
}

const GROUPS: readonly { heading: MessageKey; windowed?: true; members: readonly string[] }[] = [
  { heading: 'group.accounts', members: ['accounts.basic', 'accounts.detail', 'pan'] },
  { heading: 'group.balances', members: ['balances'] },
  {
    heading: 'group.transactions',
    windowed: true,
    members: ['transactions.basic', 'transactions.detail', 'transactions.credits', 'transactions.debits'],
  },
  { heading: 'group.statements', windowed: true, members: ['statements.basic', 'statements.detail'] },
  {
    heading: 'group.regular',
    members: ['direct_debits', 'standing_orders.basic', 'standing_orders.detail', 'scheduled_payments.basic', 'scheduled_payments.detail'],
  },
  { heading: 'group.payees', members: ['beneficiaries.basic', 'beneficiaries.detail'] },
  { heading: 'group.personal', members: ['party_psu', 'party'] },
  { heading: 'group.products', members: ['products', 'offers'] },
];

export function permissionGroups(w: Wording, scopes: readonly string[], window: TransactionWindow): PermissionGroup[] {
  const asked = new Set(scopes);
  return GROUPS.flatMap((group) => {
    const present = group.members.filter((scope) => asked.has(scope));
    if (present.length === 0) return [];
    const heading = group.windowed ? windowed(w, group.heading as Windowed, window) : w.t(group.heading);
    return [{ heading, permissions: present.map((scope) => permissionWording(w, scope)) }];
  });
}

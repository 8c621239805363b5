import { CODE_REUSED } from '../consents/consent-service.ts';
import type { AccountDirectory, BankAccount } from '../customers/account-directory.ts';
import { permissionWording } from '../consents/permission-wording.ts';
import type { ConsentDirectory, ConsentEvent, ConsentKind, ConsentState, CustomerConsent } from './consent-directory.ts';

/**
 * Turns consents into what the dashboard pages show: plain-language labels, the TPP's name and logo,
 * the accounts by name, and the story of each consent from the audit trail.
 */

export type ConsentTab = 'active' | 'expired' | 'ended';

export const TABS: readonly { id: ConsentTab; label: string; statuses: readonly ConsentState[] }[] = [
  { id: 'active', label: 'Active', statuses: ['Authorised'] },
  { id: 'expired', label: 'Expired', statuses: ['Expired'] },
  { id: 'ended', label: 'Revoked, declined or used', statuses: ['Revoked', 'Rejected', 'Consumed'] },
];

const TYPE_LABELS: Record<ConsentKind, string> = {
  account_access: 'See your account information',
  domestic_payment: 'Make one payment',
  funds_confirmation: 'Check that money is available',
  domestic_vrp: 'Make payments within limits',
};

const STATUS_LABELS: Record<ConsentState, string> = {
  AwaitingAuthorisation: 'Waiting for your answer',
  Authorised: 'Active',
  Rejected: 'Declined',
  Revoked: 'Revoked',
  Expired: 'Expired',
  Consumed: 'Payment made',
};

export interface Tpp {
  clientId: string;
  name: string;
  logoUri: string | undefined;
}

export interface TppDirectory {
  describe(clientId: string): Promise<Tpp>;
}

export interface ViewDeps {
  consents: ConsentDirectory;
  accounts: AccountDirectory;
  tpps: TppDirectory;
}

export interface ConsentCard {
  id: string;
  type: ConsentKind;
  typeLabel: string;
  status: ConsentState;
  statusLabel: string;
  accounts: string[];
  grantedAt: Date | null;
  expiresAt: Date | null;
  endedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface TppGroup {
  tpp: Tpp;
  consents: ConsentCard[];
  /** Whether "stop sharing" has anything to stop. */
  hasActive: boolean;
}

export function tabOf(status: ConsentState): ConsentTab | undefined {
  return TABS.find((tab) => tab.statuses.includes(status))?.id;
}

export function isConsentTab(value: unknown): value is ConsentTab {
  return TABS.some((tab) => tab.id === value);
}

function maskedAccount(account: BankAccount) {
  return `${account.name} (ending ${account.identification.slice(-4)})`;
}

async function accountNames(deps: ViewDeps, customerId: string, accountIds: readonly string[]) {
  const owned = await deps.accounts.findOwned(customerId, accountIds);
  return owned.map(maskedAccount);
}

function grantedAt(history: readonly ConsentEvent[]) {
  return history.find((entry) => entry.event === 'consent.authorised')?.occurredAt ?? null;
}

/** When access ended; a consent past its expiry reads Expired before the sweep records it, so its expiry is the end. */
function endOf(consent: CustomerConsent): Date | null {
  if (consent.status === 'Authorised') return null;
  return consent.status === 'Expired' && consent.expiresAt ? consent.expiresAt : consent.statusUpdatedAt;
}

async function card(deps: ViewDeps, customerId: string, consent: CustomerConsent, lastUsedAt: Date | null, history: ConsentEvent[]): Promise<ConsentCard> {
  return {
    id: consent.id,
    type: consent.type,
    typeLabel: TYPE_LABELS[consent.type],
    status: consent.status,
    statusLabel: STATUS_LABELS[consent.status],
    accounts: await accountNames(deps, customerId, consent.accountIds),
    grantedAt: grantedAt(history),
    expiresAt: consent.expiresAt,
    endedAt: endOf(consent),
    lastUsedAt,
  };
}

export interface HomeView {
  tab: ConsentTab;
  tabs: { id: ConsentTab; label: string; count: number; current: boolean }[];
  groups: TppGroup[];
}

export async function homeView(deps: ViewDeps, customerId: string, tab: ConsentTab): Promise<HomeView> {
  const all = (await deps.consents.listForCustomer(customerId)).filter((consent) => tabOf(consent.status) !== undefined);
  const shown = all.filter((consent) => tabOf(consent.status) === tab);
  const byTpp = new Map<string, TppGroup>();
  for (const consent of shown) {
    let group = byTpp.get(consent.clientId);
    if (!group) {
      group = { tpp: await deps.tpps.describe(consent.clientId), consents: [], hasActive: false };
      byTpp.set(consent.clientId, group);
    }
    group.consents.push(await card(deps, customerId, consent, consent.lastUsedAt, await deps.consents.history(consent.id)));
    group.hasActive ||= consent.status === 'Authorised';
  }
  return {
    tab,
    tabs: TABS.map(({ id, label }) => ({ id, label, count: all.filter((consent) => tabOf(consent.status) === id).length, current: id === tab })),
    groups: [...byTpp.values()].toSorted((a, b) => a.tpp.name.localeCompare(b.tpp.name)),
  };
}

export interface HistoryEntry {
  label: string;
  at: Date;
}

function historyLabel(entry: ConsentEvent, tpp: Tpp): string {
  const byTpp = entry.actorKind === 'tpp';
  switch (entry.event) {
    case 'consent.created': return `${tpp.name} asked for this`;
    case 'consent.authorised': return 'You approved it';
    case 'consent.rejected': return byTpp ? `${tpp.name} withdrew the request` : 'You declined it';
    case 'consent.revoked':
      if (entry.actorKind === 'customer') return 'You revoked it';
      if (entry.reason === CODE_REUSED) return `The bank ended it for your security: ${tpp.name} presented the same one-time sign-in code twice`;
      return byTpp ? `${tpp.name} cancelled it` : 'The bank revoked it';
    case 'consent.expired': return 'It expired';
    case 'consent.consumed': return 'The payment was made';
    case 'vrp.payment.accepted': return `${tpp.name} made a payment`;
    case 'vrp.payment.refused': return `A payment by ${tpp.name} was refused: it was outside the limits or the consent had ended`;
    default: return entry.event;
  }
}

function notRevocableBecause(consent: CustomerConsent): string | undefined {
  switch (consent.status) {
    case 'Authorised': return undefined;
    case 'Consumed': return 'This payment has already been made, so there is nothing left to revoke: a consent for a single payment ends once the payment is made. If something is wrong with the payment, contact us.';
    case 'Expired': return 'This consent has expired, so the provider already has no access.';
    case 'Revoked': return 'This consent has been revoked, so the provider already has no access.';
    case 'Rejected': return 'This request was declined, so the provider never had access.';
    case 'AwaitingAuthorisation': return 'This request is still waiting for your answer.';
  }
}

export interface DetailView {
  tpp: Tpp;
  consent: ConsentCard;
  permissions: { code: string; title: string; detail: string }[];
  transactionWindow: { from: Date | null; to: Date | null } | null;
  payment: CustomerConsent['payment'];
  vrp: CustomerConsent['vrp'];
  history: HistoryEntry[];
  revocable: boolean;
  notRevocableReason: string | undefined;
}

export async function detailView(deps: ViewDeps, customerId: string, consent: CustomerConsent): Promise<DetailView> {
  const [tpp, events] = await Promise.all([
    deps.tpps.describe(consent.clientId),
    deps.consents.history(consent.id),
  ]);
  const lastUsedAt = consent.lastUsedAt;
  const history = events.map((entry) => ({ label: historyLabel(entry, tpp), at: entry.occurredAt }));
  if (lastUsedAt) history.push({ label: `${tpp.name} last used it`, at: lastUsedAt });
  const notRevocableReason = notRevocableBecause(consent);
  return {
    tpp,
    consent: await card(deps, customerId, consent, lastUsedAt, events),
    permissions: consent.permissions.map((code) => ({ code, ...permissionWording(code) })),
    transactionWindow: consent.transactionFrom || consent.transactionTo ? { from: consent.transactionFrom, to: consent.transactionTo } : null,
    payment: consent.payment,
    vrp: consent.vrp,
    history: history.toSorted((a, b) => a.at.getTime() - b.at.getTime()),
    revocable: notRevocableReason === undefined,
    notRevocableReason,
  };
}

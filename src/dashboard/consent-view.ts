import { CODE_REUSED, REFRESH_TOKEN_REUSED } from '../consents/consent-service.ts';
import type { AccountDirectory } from '../customers/account-directory.ts';
import { permissionWording } from '../wording/permissions.ts';
import type { Wording } from '../wording/wording.ts';
import { currentPeriod, type VrpWording, vrpWording } from '../wording/vrp.ts';
import type { ConsentDirectory, ConsentEvent, ConsentKind, ConsentState, CustomerConsent } from './consent-directory.ts';

/**
 * Turns consents into what the dashboard pages show, in the words of src/wording/ (the same as the
 * consent page's): labels, the TPP's name and logo, the accounts by name, and the story of each
 * consent from the audit trail.
 */

export type ConsentTab = 'pending' | 'active' | 'expired' | 'ended';

export const TABS: readonly { id: ConsentTab; statuses: readonly ConsentState[] }[] = [
  { id: 'pending', statuses: ['AwaitingAuthorisation'] },
  { id: 'active', statuses: ['Authorised'] },
  { id: 'expired', statuses: ['Expired'] },
  { id: 'ended', statuses: ['Revoked', 'Rejected', 'Consumed'] },
];

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
  createdAt: Date;
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

async function accountNames(deps: ViewDeps, w: Wording, customerId: string, accountIds: readonly string[]) {
  const owned = await deps.accounts.findOwned(customerId, accountIds);
  return owned.map((account) => w.accountLabel(account));
}

function grantedAt(history: readonly ConsentEvent[]) {
  return history.find((entry) => entry.event === 'consent.authorised')?.occurredAt ?? null;
}

/** When access ended; a consent past its expiry reads Expired before the sweep records it, so its expiry is the end. */
function endOf(consent: CustomerConsent): Date | null {
  if (consent.status === 'Authorised') return null;
  return consent.status === 'Expired' && consent.expiresAt ? consent.expiresAt : consent.statusUpdatedAt;
}

/** A single payment approved and not yet made: the one thing the customer can still do is cancel it. */
function waitingPayment(consent: Pick<CustomerConsent, 'type' | 'status'>): boolean {
  return consent.type === 'domestic_payment' && consent.status === 'Authorised';
}

async function card(deps: ViewDeps, w: Wording, customerId: string, consent: CustomerConsent, lastUsedAt: Date | null, history: ConsentEvent[]): Promise<ConsentCard> {
  return {
    id: consent.id,
    type: consent.type,
    typeLabel: w.t(`dash.type.${consent.type}`),
    status: consent.status,
    statusLabel: waitingPayment(consent) ? w.t('dash.status.paymentWaiting') : w.t(`dash.status.${consent.status}`),
    accounts: await accountNames(deps, w, customerId, consent.accountIds),
    createdAt: consent.createdAt,
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

export async function homeView(deps: ViewDeps, w: Wording, customerId: string, tab: ConsentTab): Promise<HomeView> {
  const all = (await deps.consents.listForCustomer(customerId)).filter((consent) => tabOf(consent.status) !== undefined);
  const shown = all.filter((consent) => tabOf(consent.status) === tab);
  const byTpp = new Map<string, TppGroup>();
  for (const consent of shown) {
    let group = byTpp.get(consent.clientId);
    if (!group) {
      group = { tpp: await deps.tpps.describe(consent.clientId), consents: [], hasActive: false };
      byTpp.set(consent.clientId, group);
    }
    group.consents.push(await card(deps, w, customerId, consent, consent.lastUsedAt, await deps.consents.history(consent.id)));
    group.hasActive ||= consent.status === 'Authorised';
  }
  return {
    tab,
    tabs: TABS.map(({ id }) => ({ id, label: w.t(`dash.tab.${id}`), count: all.filter((consent) => tabOf(consent.status) === id).length, current: id === tab })),
    groups: [...byTpp.values()].toSorted((a, b) => a.tpp.name.localeCompare(b.tpp.name)),
  };
}

export interface HistoryEntry {
  at: Date;
  who: string;
  what: string;
}

/** Who did it, in the customer's words: "You", the TPP by name, or the bank by name. */
function actorOf(w: Wording, entry: ConsentEvent, tpp: Tpp): string {
  if (entry.actorKind === 'customer') return w.t('dash.who.you');
  if (entry.actorKind === 'tpp') return w.t('dash.who.tpp', { tpp: tpp.name });
  return w.t('dash.who.bank');
}

function whatHappened(w: Wording, entry: ConsentEvent, tpp: Tpp): string {
  const byTpp = entry.actorKind === 'tpp';
  switch (entry.event) {
    case 'consent.created': return w.t('dash.event.created');
    case 'consent.authorised': return w.t('dash.event.authorised');
    case 'consent.rejected': return w.t(byTpp ? 'dash.event.withdrawn' : 'dash.event.declined');
    case 'consent.revoked':
      if (entry.reason === CODE_REUSED) return w.t('dash.event.endedCodeReused');
      if (entry.reason === REFRESH_TOKEN_REUSED) return w.t('dash.event.endedRefreshReused');
      return w.t(byTpp ? 'dash.event.cancelled' : 'dash.event.revoked');
    case 'consent.expired': return w.t('dash.event.expired');
    case 'consent.consumed': return w.t('dash.event.consumed');
    case 'token.issued': return w.t('dash.event.issued');
    case 'token.refreshed': return w.t('dash.event.refreshed');
    case 'token.introspected': return w.t('dash.event.introspected');
    case 'vrp.payment.accepted': return w.t('dash.event.vrpAccepted', { tpp: tpp.name });
    case 'vrp.payment.refused': return w.t('dash.event.vrpRefused', { tpp: tpp.name });
    default: return w.t('dash.event.other');
  }
}

function notRevocableBecause(w: Wording, consent: CustomerConsent): string | undefined {
  return consent.status === 'Authorised' ? undefined : w.t(`dash.notRevocable.${consent.status}`);
}

export interface DetailView {
  tpp: Tpp;
  consent: ConsentCard;
  permissions: { code: string; title: string; detail: string }[];
  transactionWindow: { from: Date | null; to: Date | null } | null;
  /** As on the consent page: the exact amount, the payee with its full account number. */
  payment: { amount: string; payee: string; reference: string | null } | null;
  /** Its limits in words and, for each limit's current period, paid / still allowed / limit in the wording's money format. */
  vrp: { wording: VrpWording; periods: { label: string; from: Date; until: Date; paid: string; remaining: string; limit: string }[] } | null;
  history: HistoryEntry[];
  revocable: boolean;
  notRevocableReason: string | undefined;
}

export async function detailView(deps: ViewDeps, w: Wording, customerId: string, consent: CustomerConsent): Promise<DetailView> {
  const [tpp, events] = await Promise.all([
    deps.tpps.describe(consent.clientId),
    deps.consents.history(consent.id),
  ]);
  const lastUsedAt = consent.lastUsedAt;
  const history = events.map((entry) => ({ at: entry.occurredAt, who: actorOf(w, entry, tpp), what: whatHappened(w, entry, tpp) }));
  const notRevocableReason = notRevocableBecause(w, consent);
  return {
    tpp,
    consent: await card(deps, w, customerId, consent, lastUsedAt, events),
    permissions: consent.permissions.map((code) => ({ code, ...permissionWording(w, code) })),
    transactionWindow: consent.transactionFrom || consent.transactionTo ? { from: consent.transactionFrom, to: consent.transactionTo } : null,
    payment: consent.payment && {
      amount: w.money(consent.payment.amount, consent.payment.currency),
      payee: w.t('dash.payeeWithAccount', {
        payee: consent.payment.payeeName ?? w.t('dash.payee'),
        account: w.accountNumber(consent.payment.payeeScheme, consent.payment.payeeIdentification),
      }),
      reference: consent.payment.reference,
    },
    vrp: consent.vrp && {
      wording: vrpWording(w, consent.vrp.facts),
      periods: consent.vrp.periods.map((period) => ({
        label: currentPeriod(w, period.periodType),
        from: period.from,
        until: period.until,
        paid: w.money(period.paid, period.currency),
        remaining: w.money(period.remaining, period.currency),
        limit: w.money(period.limit, period.currency),
      })),
    },
    history: history.toSorted((a, b) => a.at.getTime() - b.at.getTime()),
    revocable: notRevocableReason === undefined,
    notRevocableReason,
  };
}

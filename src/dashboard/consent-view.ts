import { CODE_REUSED, REFRESH_TOKEN_REUSED } from '../consents/consent-service.ts';
import type { AccountDirectory } from '../customers/account-directory.ts';
import { permissionWording } from '../wording/permissions.ts';
import { readFrequencyWords } from '../wording/frequency.ts';
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

/** One client of a TPP: the name and logo it registered, and the TPP it belongs to. */
export interface Tpp {
  clientId: string;
  name: string;
  logoUri: string | undefined;
  /** The TPP behind the client (tpp-service.ts organisationOfClient): every client of it, one key. */
  organisation: { key: string; name: string | null; clientIds: string[] };
}

/**
 * A TPP as the customer meets it, through the clients they have consents with: one name, one logo,
 * and the names of its apps when they have used more than one under different names.
 */
export interface WholeTpp {
  /** Any of its clients: the one its "stop sharing" address names. */
  clientId: string;
  name: string;
  logoUri: string | undefined;
  /** Every client of the TPP, the ones the customer has not used included: "stop sharing" ends them all. */
  clientIds: string[];
  /** Its clients' names when they differ; empty when one name says it all. */
  apps: string[];
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
  /** The name of the TPP's client (app) the consent was given to. */
  app: string;
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
  tpp: WholeTpp;
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

/** The merchant a commercial VRP mandate pays: the dashboard names it where a sweeping one says what it does. */
function commercialMerchant(consent: CustomerConsent): string | undefined {
  return consent.vrp && !consent.vrp.facts.sweeping ? consent.vrp.facts.merchant?.name : undefined;
}

async function card(
  deps: ViewDeps,
  w: Wording,
  customerId: string,
  consent: CustomerConsent,
  tpp: Tpp,
  history: ConsentEvent[],
): Promise<ConsentCard> {
  return {
    id: consent.id,
    app: tpp.name,
    type: consent.type,
    typeLabel: commercialMerchant(consent)
      ? w.t('dash.type.commercialVrp', { merchant: commercialMerchant(consent)! })
      : w.t(`dash.type.${consent.type}`),
    status: consent.status,
    statusLabel: waitingPayment(consent) ? w.t('dash.status.paymentWaiting') : w.t(`dash.status.${consent.status}`),
    accounts: await accountNames(deps, w, customerId, consent.accountIds),
    createdAt: consent.createdAt,
    grantedAt: grantedAt(history),
    expiresAt: consent.expiresAt,
    endedAt: endOf(consent),
    lastUsedAt: consent.lastUsedAt,
  };
}

export interface HomeView {
  tab: ConsentTab;
  tabs: { id: ConsentTab; label: string; count: number; current: boolean }[];
  groups: TppGroup[];
  /** Decoupled (CIBA) requests waiting for this customer: counted under pending, answered on their own page. */
  decoupledWaiting: number;
}

/**
 * Several clients of one TPP as that TPP: under the name they share, or the organisation's own name
 * when they go by different names (one app's name would misname the others).
 */
function wholeTpp(clients: readonly Tpp[]): WholeTpp {
  const first = clients[0]!;
  const apps = [...new Set(clients.map((client) => client.name))].toSorted((a, b) => a.localeCompare(b));
  return {
    clientId: first.clientId,
    name: apps.length === 1 ? first.name : (first.organisation.name ?? first.name),
    logoUri: clients.find((client) => client.logoUri)?.logoUri,
    clientIds: first.organisation.clientIds,
    apps: apps.length === 1 ? [] : apps,
  };
}

/** Each consent's client, described once per client. */
async function clientsOf(deps: ViewDeps, consents: readonly CustomerConsent[]): Promise<Map<string, Tpp>> {
  const clientIds = [...new Set(consents.map((consent) => consent.clientId))];
  return new Map(await Promise.all(clientIds.map(async (clientId) => [clientId, await deps.tpps.describe(clientId)] as const)));
}

/** The customer's consents with the TPP behind `clientId` (any of its clients), and that TPP; undefined when there are none. */
export async function consentsWithTpp(
  deps: ViewDeps,
  customerId: string,
  clientId: string,
): Promise<{ tpp: WholeTpp; consents: CustomerConsent[] } | undefined> {
  const named = await deps.tpps.describe(clientId);
  const consents = (await deps.consents.listForCustomer(customerId)).filter((consent) =>
    named.organisation.clientIds.includes(consent.clientId),
  );
  if (consents.length === 0) return undefined;
  return { tpp: wholeTpp([...(await clientsOf(deps, consents)).values()]), consents };
}

export async function homeView(
  deps: ViewDeps,
  w: Wording,
  customerId: string,
  tab: ConsentTab,
  decoupledWaiting: number,
): Promise<HomeView> {
  const all = (await deps.consents.listForCustomer(customerId)).filter((consent) => tabOf(consent.status) !== undefined);
  const shown = all.filter((consent) => tabOf(consent.status) === tab);
  const clients = await clientsOf(deps, shown);
  // One group per TPP, not per client: a TPP with several registered clients is still one TPP.
  const byTpp = new Map<string, CustomerConsent[]>();
  for (const consent of shown) {
    const key = clients.get(consent.clientId)!.organisation.key;
    byTpp.set(key, [...(byTpp.get(key) ?? []), consent]);
  }
  const groups = await Promise.all(
    [...byTpp.values()].map(async (consents): Promise<TppGroup> => ({
      tpp: wholeTpp([...new Set(consents.map((consent) => clients.get(consent.clientId)!))]),
      consents: await Promise.all(
        consents.map(async (consent) =>
          card(deps, w, customerId, consent, clients.get(consent.clientId)!, await deps.consents.history(consent.id)),
        ),
      ),
      hasActive: consents.some((consent) => consent.status === 'Authorised'),
    })),
  );
  // A decoupled request's consent names no customer until it is decided (the consent service records
  // the customer on authorise or reject), so it is never also one of the pending consents counted here.
  const count = (id: ConsentTab) =>
    all.filter((consent) => tabOf(consent.status) === id).length + (id === 'pending' ? decoupledWaiting : 0);
  return {
    tab,
    tabs: TABS.map(({ id }) => ({ id, label: w.t(`dash.tab.${id}`), count: count(id), current: id === tab })),
    groups: groups.toSorted((a, b) => a.tpp.name.localeCompare(b.tpp.name)),
    decoupledWaiting,
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
    case 'consent.created':
      return w.t('dash.event.created');
    case 'consent.authorisation_started':
      return w.t('dash.event.authorisationStarted');
    case 'consent.authorised':
      return w.t('dash.event.authorised');
    case 'consent.rejected':
      return w.t(byTpp ? 'dash.event.withdrawn' : 'dash.event.declined');
    case 'consent.revoked':
      if (entry.reason === CODE_REUSED) return w.t('dash.event.endedCodeReused');
      if (entry.reason === REFRESH_TOKEN_REUSED) return w.t('dash.event.endedRefreshReused');
      return w.t(byTpp ? 'dash.event.cancelled' : 'dash.event.revoked');
    case 'consent.expired':
      return w.t('dash.event.expired');
    case 'consent.consumed':
      return w.t('dash.event.consumed');
    case 'token.issued':
      return w.t('dash.event.issued');
    case 'token.refreshed':
      return w.t('dash.event.refreshed');
    case 'token.introspected':
      return w.t('dash.event.introspected');
    case 'vrp.payment.accepted':
      return w.t('dash.event.vrpAccepted', { tpp: tpp.name });
    case 'vrp.payment.refused':
      return w.t('dash.event.vrpRefused', { tpp: tpp.name });
    case 'access.recorded':
      return w.t('dash.event.accessed', { tpp: tpp.name });
    default:
      return w.t('dash.event.other');
  }
}

function notRevocableBecause(w: Wording, consent: CustomerConsent): string | undefined {
  return consent.status === 'Authorised' ? undefined : w.t(`dash.notRevocable.${consent.status}`);
}

export interface DetailView {
  tpp: Tpp;
  /** "Sweepy: make payments within limits", or for a commercial VRP "Streamy: take payments for Acme Streaming". */
  heading: string;
  consent: ConsentCard;
  permissions: { code: string; title: string; detail: string }[];
  transactionWindow: { from: Date | null; to: Date | null } | null;
  /** As on the consent page: how often it may be used without the customer (Berlin Group's frequencyPerDay). */
  frequency: string | undefined;
  /** As on the consent page: the exact amount, the payee with its full account number. */
  payment: { amount: string; payee: string; reference: string | null } | null;
  /** Its limits in words and, for each limit's current period, paid / still allowed / limit in the wording's money format. */
  vrp: {
    wording: VrpWording;
    periods: { label: string; from: Date; until: Date; paid: string; remaining: string; limit: string }[];
  } | null;
  history: HistoryEntry[];
  revocable: boolean;
  notRevocableReason: string | undefined;
}

export async function detailView(deps: ViewDeps, w: Wording, customerId: string, consent: CustomerConsent): Promise<DetailView> {
  const [tpp, events] = await Promise.all([deps.tpps.describe(consent.clientId), deps.consents.history(consent.id)]);
  const history = events.map((entry) => ({ at: entry.occurredAt, who: actorOf(w, entry, tpp), what: whatHappened(w, entry, tpp) }));
  const notRevocableReason = notRevocableBecause(w, consent);
  const merchant = commercialMerchant(consent);
  return {
    tpp,
    heading: merchant
      ? w.t('dash.detailHeading.commercialVrp', { tpp: tpp.name, merchant })
      : w.t(`dash.detailHeading.${consent.type}`, { tpp: tpp.name }),
    consent: await card(deps, w, customerId, consent, tpp, events),
    permissions: consent.permissions.map((code) => ({ code, ...permissionWording(w, code) })),
    transactionWindow:
      consent.transactionFrom || consent.transactionTo ? { from: consent.transactionFrom, to: consent.transactionTo } : null,
    frequency: readFrequencyWords(w, { ...consent, reads: consent.type === 'account_access' }, tpp.name),
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

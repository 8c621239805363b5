import type { BgHref } from './bg-error.ts';
import type { BankCalendar } from './bg-bank-time.ts';
import { type BgAccess, type BgConsentRequest, MAX_VALID_UNTIL } from './bg-consent-request.ts';
import type { IbanAccountReference } from './bg-fields.ts';
import type { BgHeaders } from './bg-headers.ts';
import type { AccessConsent, AccessConsentDraft, AccountReference, Read, ReadScope } from './bg-model.ts';
import { type BgConsentStatus, bgConsentStatusOf } from './bg-status.ts';

/**
 * The AIS consent between the Berlin Group's words and the consent model (src/consents/consent.ts, as bg-model.ts narrows it): the request into a
 * draft, the consent back out as the bodies of POST /v1/consents, GET /v1/consents/{consentId} and its
 * /status.
 *
 * Reading the access object (the guidelines' accountAccess): balances or transactions of an account also
 * give its account details (adorsys/xs2a: "a selection of either balances or transactions grants access to
 * accounts as well"), so every listed account is read for `accounts.detail`; an empty list asks for the
 * accounts the customer picks while authorising (accounts null); availableAccounts is the list of accounts
 * only (`accounts.basic`), availableAccountsWithBalance adds their balances, allPsd2 is all three services,
 * every one of them on the accounts the customer picks.
 */

const toAccount = (reference: IbanAccountReference): AccountReference => ({
  scheme: 'iban',
  identification: reference.iban,
  ...(reference.currency && { currency: reference.currency }),
});

const keyOf = (account: AccountReference) => `${account.scheme} ${account.identification} ${account.currency ?? ''}`;

/** The accounts of several lists, each once, in the order first named. */
function union(lists: IbanAccountReference[][]): AccountReference[] {
  return dedupe(lists.flat().map(toAccount));
}

const ALL: Record<'availableAccounts' | 'availableAccountsWithBalance' | 'allPsd2', ReadScope[]> = {
  availableAccounts: ['accounts.basic'],
  availableAccountsWithBalance: ['accounts.basic', 'balances'],
  allPsd2: ['accounts.detail', 'balances', 'transactions.detail'],
};

/** What the access object asks to read, of which accounts. */
export function readsOf(access: BgAccess): Read[] {
  for (const flag of ['availableAccounts', 'availableAccountsWithBalance', 'allPsd2'] as const)
    if (access[flag] !== undefined) return ALL[flag].map((scope) => ({ scope, accounts: null }));
  const lists = [access.accounts, access.balances, access.transactions].filter((list) => list !== undefined);
  const picked = lists.every((list) => list.length === 0);
  const reads: Read[] = [{ scope: 'accounts.detail', accounts: picked ? null : union(lists) }];
  if (access.balances) reads.push({ scope: 'balances', accounts: picked ? null : union([access.balances]) });
  if (access.transactions) reads.push({ scope: 'transactions.detail', accounts: picked ? null : union([access.transactions]) });
  return reads;
}

/** The draft of a consent as requested, its validUntil (as granted) ending with that bank date. */
export function accessConsentDraftOf(request: BgConsentRequest, headers: BgHeaders, calendar: BankCalendar): AccessConsentDraft {
  return {
    type: 'account_access',
    standard: 'berlin_group',
    reads: readsOf(request.access),
    expiresAt: calendar.endOf(request.validUntil),
    transactionFrom: null,
    transactionTo: null,
    recurring: request.recurringIndicator,
    frequencyPerDay: request.frequencyPerDay,
    combinedService: request.combinedServiceIndicator,
    redirectUri: headers.tppRedirectUri,
    payment: null,
    debtorAccount: null,
    risk: {},
    vrp: null,
  };
}

/** An account as the guidelines' accountReference (IBAN only: the Berlin Group consents name accounts so). */
function bgAccountOf(account: AccountReference): IbanAccountReference {
  return { iban: account.identification, ...(account.currency && { currency: account.currency }) };
}

const TRANSACTION_SCOPES: ReadScope[] = ['transactions.detail', 'transactions.credits', 'transactions.debits'];

/**
 * The access object of a consent's reads: availableAccounts(WithBalance) when it reads the list of accounts
 * only; else accounts, balances and transactions, each the accounts named or picked (empty while the
 * customer has yet to pick them). allPsd2 is not told apart from a bank-offered consent of all three lists
 * (the reads are the same): before authorisation it reads back as three empty lists.
 */
export function bgAccessOf(reads: Read[]): BgAccess {
  const of = (scopes: ReadScope[]) => reads.filter((read) => scopes.includes(read.scope));
  // A Berlin Group consent names accounts by IBAN only; the list is deduplicated across reads of one service.
  const listOf = (scopes: ReadScope[]) =>
    dedupe(of(scopes).flatMap((read) => (read.accounts ?? []).filter((account) => account.scheme === 'iban'))).map(bgAccountOf);
  if (of(['accounts.basic']).length > 0)
    return of(['balances']).length > 0 ? { availableAccountsWithBalance: 'allAccounts' } : { availableAccounts: 'allAccounts' };
  const access: BgAccess = {};
  if (of(['accounts.detail']).length > 0) access.accounts = listOf(['accounts.detail']);
  if (of(['balances']).length > 0) access.balances = listOf(['balances']);
  if (of(TRANSACTION_SCOPES).length > 0) access.transactions = listOf(TRANSACTION_SCOPES);
  return access;
}

function dedupe(accounts: AccountReference[]): AccountReference[] {
  const seen = new Map<string, AccountReference>();
  for (const account of accounts) if (!seen.has(keyOf(account))) seen.set(keyOf(account), account);
  return [...seen.values()];
}

/** POST /v1/consents 201. */
export function consentCreatedBody(consent: AccessConsent, links: Record<string, BgHref>) {
  return { consentStatus: bgConsentStatusOf(consent.status, consent.endedBy), consentId: consent.id, _links: links };
}

export interface BgConsentInformation {
  access: BgAccess;
  recurringIndicator: boolean;
  validUntil: string;
  frequencyPerDay: number;
  lastActionDate: string;
  consentStatus: BgConsentStatus;
  _links?: Record<string, BgHref>;
}

/** GET /v1/consents/{consentId}: validUntil as granted, lastActionDate the bank date of the last status change. */
export function consentInformationBody(
  consent: AccessConsent,
  calendar: BankCalendar,
  links?: Record<string, BgHref>,
): BgConsentInformation {
  return {
    access: bgAccessOf(consent.reads),
    recurringIndicator: consent.recurring,
    // A Berlin Group consent always has both (accessConsentDraftOf); the model allows neither to be missing elsewhere.
    validUntil: consent.expiresAt === null ? MAX_VALID_UNTIL : calendar.lastDateBefore(consent.expiresAt),
    frequencyPerDay: consent.frequencyPerDay ?? 0,
    lastActionDate: calendar.dateOf(consent.statusUpdatedAt),
    consentStatus: bgConsentStatusOf(consent.status, consent.endedBy),
    ...(links && { _links: links }),
  };
}

/** GET /v1/consents/{consentId}/status. */
export function consentStatusBody(consent: Pick<AccessConsent, 'status' | 'endedBy'>): { consentStatus: BgConsentStatus } {
  return { consentStatus: bgConsentStatusOf(consent.status, consent.endedBy) };
}

import { getConsentForClient } from '../consents/consent-service.ts';
import type { AccountDirectory } from '../customers/account-directory.ts';
import type { Db } from '../db/connect.ts';
import { accountChoices } from '../consents/account-choices.ts';
import { type ConsentDetails, consentDetails, type TppOnPage, tppOnPage } from '../interactions/consent-details.ts';
import { linkedPaymentOf, paymentDigest } from '../interactions/dynamic-linking.ts';
import { getClientDisplay } from '../tpp/tpp-service.ts';
import type { Wording } from '../wording/wording.ts';
import { countPendingForCustomer, type DecoupledRequestRow, listPendingForCustomer } from './decoupled-repository.ts';

/**
 * A pending decoupled request as the customer's device shows it: who asks, the binding message to
 * match with the TPP's screen, and the consent in exactly the words of the consent page
 * (interactions/consent-details.ts); for a payment, the digest of what is shown (dynamic linking).
 */
export interface DecoupledRequestView {
  id: string;
  tpp: TppOnPage;
  bindingMessage: string;
  expiresAt: Date;
  expires: string;
  consentId: string;
  consent: ConsentDetails;
  paymentDigest: string | undefined;
}

export interface ViewDeps {
  db: Db;
  accounts: AccountDirectory;
}

async function viewOf(deps: ViewDeps, w: Wording, customerId: string, row: DecoupledRequestRow): Promise<DecoupledRequestView | undefined> {
  const consent = row.consent_id ? await getConsentForClient(deps.db, row.client_id, row.consent_id) : undefined;
  if (!consent) return undefined;
  const tpp = tppOnPage(await getClientDisplay(deps.db, row.client_id), row.client_id);
  const choices = accountChoices(consent, await deps.accounts.listForCustomer(customerId));
  const linked = linkedPaymentOf(consent);
  return {
    id: row.id,
    tpp,
    bindingMessage: row.binding_message ?? '',
    expiresAt: row.expires_at,
    expires: w.time(row.expires_at),
    consentId: consent.id,
    consent: consentDetails(w, consent, tpp.name, choices),
    paymentDigest: linked && paymentDigest(linked),
  };
}

/** The customer's pending requests whose consent can still be shown, oldest first. */
export async function pendingRequestViews(deps: ViewDeps, w: Wording, customerId: string): Promise<DecoupledRequestView[]> {
  const rows = await listPendingForCustomer(deps.db, customerId);
  const views = await Promise.all(rows.map((row) => viewOf(deps, w, customerId, row)));
  return views.filter((view) => view !== undefined);
}

/**
 * How many requests the page would list, without building them (the dashboard's "Waiting for you"
 * count): a consent, once created, is never deleted, so each request naming one can be shown.
 */
export function waitingRequestCount(db: Db, customerId: string): Promise<number> {
  return countPendingForCustomer(db, customerId);
}

/** The JSON shape of the bank app's endpoint: the same facts and words as the page. */
export function requestJson(view: DecoupledRequestView) {
  const { consent } = view;
  return {
    id: view.id,
    // What the bank's app shows of the TPP; whether a client is the bank's own is for the pages' wording.
    tpp: { name: view.tpp.name, logoUri: view.tpp.logoUri },
    binding_message: view.bindingMessage,
    expires_at: view.expiresAt.toISOString(),
    consent: {
      id: view.consentId,
      heading: consent.heading,
      permission_groups: consent.permissionGroups,
      duration: consent.duration,
      payment: consent.payment ?? null,
      vrp: consent.vrp ?? null,
      debtor_account: consent.debtorAccount ?? null,
    },
    accounts: {
      choose: consent.multiple ? 'one_or_more' : 'one',
      legend: consent.legend,
      options: consent.accounts.map(({ id, label }) => ({ id, label })),
    },
    payment_digest: view.paymentDigest ?? null,
  };
}

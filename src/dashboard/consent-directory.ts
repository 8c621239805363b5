import type { VrpWording } from '../consents/vrp/vrp-wording.ts';

/**
 * What the dashboard needs from the consent model, in the dashboard's terms. `consent-source.ts`
 * implements it over the consents module's service functions; nothing here reads consent tables.
 */

import type { ConsentStatus, ConsentType } from '../protocol/consent-types.ts';

export type ConsentKind = ConsentType;
export type ConsentState = ConsentStatus;

export interface CustomerConsent {
  id: string;
  clientId: string;
  type: ConsentKind;
  status: ConsentState;
  permissions: string[];
  accountIds: string[];
  expiresAt: Date | null;
  transactionFrom: Date | null;
  transactionTo: Date | null;
  payment: { amount: string; currency: string; payeeName: string | null; payeeAccount: string; reference: string | null } | null;
  /** A VRP consent: its limits in words and what has been paid in each limit's current period. */
  vrp: { wording: VrpWording; periods: VrpPeriod[] } | null;
  createdAt: Date;
  statusUpdatedAt: Date;
  /** When the TPP last obtained or presented a token of it (recorded coarsely, to the minute). */
  lastUsedAt: Date | null;
}

export interface VrpPeriod {
  label: string;
  currency: string;
  limit: string;
  paid: string;
  remaining: string;
  from: Date;
  /** Exclusive: the first moment of the next period. */
  until: Date;
}

export interface ConsentEvent {
  event: string;
  actorKind: string;
  occurredAt: Date;
  /** Why the system ended the consent, when it did. */
  reason?: string;
}

export interface ConsentDirectory {
  /** Every consent the customer has authorised or declined, newest first. */
  listForCustomer(customerId: string): Promise<CustomerConsent[]>;
  /** The consent if it is this customer's; undefined for anyone else's or an unknown id. */
  findForCustomer(customerId: string, consentId: string): Promise<CustomerConsent | undefined>;
  /** Revokes one of the customer's Authorised consents, its grant and every token, with an audit event. */
  revoke(customerId: string, consentId: string): Promise<CustomerConsent>;
  /** Revokes all the customer's Authorised consents with one TPP in one transaction; returns them. */
  revokeAllWithTpp(customerId: string, clientId: string): Promise<CustomerConsent[]>;
  history(consentId: string): Promise<ConsentEvent[]>;
}

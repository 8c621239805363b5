import type { PeriodType } from '../consents/vrp/vrp-terms.ts';
import type { VrpFacts } from '../wording/vrp.ts';

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
  /** What may be read: the consent model's read scopes (`accounts.detail`, `balances`, ...), in the order asked. */
  permissions: string[];
  accountIds: string[];
  /** Whether it may be used again and again until it ends, and how often a day without the customer (null: no limit). */
  recurring: boolean;
  frequencyPerDay: number | null;
  expiresAt: Date | null;
  transactionFrom: Date | null;
  transactionTo: Date | null;
  payment: {
    amount: string;
    currency: string;
    payeeName: string | null;
    payeeScheme: string;
    payeeIdentification: string;
    reference: string | null;
  } | null;
  /** A VRP consent: what it allows and what has been paid in each limit's current period (worded by src/wording/vrp.ts). */
  vrp: { facts: VrpFacts; periods: VrpPeriod[] } | null;
  createdAt: Date;
  statusUpdatedAt: Date;
  /** When the TPP last obtained or presented a token of it (recorded coarsely, to the minute). */
  lastUsedAt: Date | null;
}

export interface VrpPeriod {
  periodType: PeriodType;
  currency: string;
  limit: string;
  paid: string;
  remaining: string;
  from: Date;
  /** Exclusive: the first moment of the next period. */
  until: Date;
}

/** One line of a consent's timeline: a transition from the audit trail, or a use of its tokens. */
export interface ConsentEvent {
  event: string;
  /** `tpp` is the consent's own TPP; a use by any other client is the bank's (a resource server). */
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
  /** Revokes all the customer's Authorised consents with one TPP, through any of its clients, in one transaction; returns them. */
  revokeAllWithTpp(customerId: string, clientIds: readonly string[]): Promise<CustomerConsent[]>;
  /** Transitions and token uses of the consent, oldest first. */
  history(consentId: string): Promise<ConsentEvent[]>;
}

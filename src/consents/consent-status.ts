import type { ConsentStatus, ConsentType } from '../db/schema.ts';
import { AssentError } from '../protocol/assent-error.ts';

export type { ConsentStatus } from '../db/schema.ts';

/**
 * The consent status machine, in one place (UK OB names). Terminal states never change again;
 * Consumed exists only for single-use payment consents.
 */
const TRANSITIONS: Record<ConsentStatus, readonly ConsentStatus[]> = {
  AwaitingAuthorisation: ['Authorised', 'Rejected'],
  Authorised: ['Revoked', 'Expired', 'Consumed'],
  Rejected: [],
  Revoked: [],
  Expired: [],
  Consumed: [],
};

const SINGLE_USE: ReadonlySet<ConsentType> = new Set(['domestic_payment']);

/** UK OB re-authentication: the customer authorises an Authorised account-access consent again. */
const REAUTHORISABLE: ReadonlySet<ConsentType> = new Set(['account_access']);

export const CONSENT_STATUSES = Object.keys(TRANSITIONS) as ConsentStatus[];

export function isTerminal(status: ConsentStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

export function canTransition(type: ConsentType, from: ConsentStatus, to: ConsentStatus): boolean {
  if (to === 'Consumed' && !SINGLE_USE.has(type)) return false;
  return TRANSITIONS[from].includes(to);
}

export function canReauthorise(type: ConsentType, status: ConsentStatus): boolean {
  return status === 'Authorised' && REAUTHORISABLE.has(type);
}

export class IllegalConsentTransition extends AssentError {
  override name = 'IllegalConsentTransition';
  readonly from: ConsentStatus;
  readonly to: ConsentStatus;
  constructor(type: ConsentType, from: ConsentStatus, to: ConsentStatus) {
    super('consent_status_invalid', `the ${type} consent is ${from} and cannot become ${to}`);
    this.from = from;
    this.to = to;
  }
}

export function assertTransition(type: ConsentType, from: ConsentStatus, to: ConsentStatus): void {
  if (!canTransition(type, from, to)) throw new IllegalConsentTransition(type, from, to);
}

import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { AuditActorKind, ConsentStatus, ConsentType, Database } from '../db/schema.ts';
import type { ConsentStandard } from '../protocol/consent-types.ts';
import { CONSENT_AUTHORIZATION_REVOKED, type EventType, RESOURCE_UPDATE } from '../protocol/event-types.ts';
import { insertConsentEvent } from './outbox-repository.ts';

/**
 * The event outbox. The consent service calls `recordConsentChange` inside the transaction of every
 * status change, so an event exists exactly when the change commits; delivery (push or polling)
 * reads the rows afterwards. Events are stored as facts and signed when handed out (sets.ts), so a
 * retry months later is signed with a key the JWKS still publishes.
 */

export interface ConsentChange {
  consentId: string;
  consentType: ConsentType;
  /** The consent's standard: which version's words its events speak. */
  consentStandard: ConsentStandard;
  clientId: string;
  status: ConsentStatus;
  actor: AuditActorKind;
  /** Why an authorisation ended, when the caller knows better than the actor's kind. */
  reason?: string | undefined;
}

/** consent-authorization-revoked carries a reason; this is it when the caller gives none. */
const REVOCATION_REASON: Record<AuditActorKind, string> = {
  customer: 'revoked by the customer at the bank',
  tpp: 'revoked by the TPP',
  operator: 'revoked by the bank',
  resource_server: 'revoked by the bank',
  system: 'revoked by the bank',
};

/**
 * Writes the events of one status change: a resource-update always, and consent-authorization-revoked
 * when the customer's authorisation was revoked. A TPP that subscribed with a callback URL (to this
 * type, or to all) gets each queued for push at once.
 */
export async function recordConsentChange(trx: Transaction<Database>, change: ConsentChange): Promise<void> {
  const types: EventType[] = change.status === 'Revoked' ? [RESOURCE_UPDATE, CONSENT_AUTHORIZATION_REVOKED] : [RESOURCE_UPDATE];
  const txn = randomUUID();
  const reason = change.status === 'Revoked' ? (change.reason ?? REVOCATION_REASON[change.actor]) : null;
  // One statement per type keeps their seq in emission order.
  for (const type of types) {
    await insertConsentEvent(trx, {
      txn,
      clientId: change.clientId,
      consentId: change.consentId,
      consentType: change.consentType,
      consentStandard: change.consentStandard,
      type,
      status: change.status,
      reason: type === CONSENT_AUTHORIZATION_REVOKED ? reason : null,
    });
  }
}

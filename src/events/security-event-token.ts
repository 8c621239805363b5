import type { Provider } from 'oidc-provider';
import { CONSENT_API_PATHS, OB_API_PREFIX } from '../protocol/routes.ts';
import type { ConsentEventRow, ConsentType } from '../db/schema.ts';
import { signWithServerKey } from '../oidc/server-signing.ts';
import { CONSENT_AUTHORIZATION_REVOKED } from '../protocol/event-types.ts';

/**
 * Events as Security Event Tokens (RFC 8417) in the UK OB Event Notification shape. A SET is built
 * from the outbox row and signed when it is handed out: jti, txn, toe and consent_seq come from the
 * row, so every delivery of one event carries the same facts; iat is when this copy was signed.
 */

/** RFC 8417 §2.3: the media type of a SET, in its `typ` header. */
export const SET_TYP = 'secevent+jwt';

const OB = 'http://openbanking.org.uk';

/** UK OB resource type names of the consents. */
const RESOURCE_TYPE: Record<ConsentType, string> = {
  account_access: 'account-access-consent',
  domestic_payment: 'domestic-payment-consent',
  funds_confirmation: 'funds-confirmation-consent',
  domestic_vrp: 'domestic-vrp-consent',
};

function consentResourceUrl(issuer: string, type: ConsentType, consentId: string): string {
  return `${issuer}${OB_API_PREFIX}${CONSENT_API_PATHS[type]}/${consentId}`;
}

const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * The SET's claims. Assent adds two to the UK OB shape: `status` (the consent's new status) in
 * resource-update, and `consent_seq`, the event's number among its consent's events (1, 2, 3...). Push
 * keeps each consent's order, yet events can reach a receiver out of order (a second copy of an event,
 * delivery being at least once; a receiver mixing push and polling), and `toe` cannot order them: it is
 * in seconds, and the events of one change share it. A receiver that has applied a higher consent_seq
 * for the consent than the one it receives knows the event is older. A gap is not an error: an event it
 * did not subscribe to was not pushed.
 */
function securityEventClaims(issuer: string, event: ConsentEventRow, now = new Date()): Record<string, unknown> {
  const link = consentResourceUrl(issuer, event.consent_type, event.consent_id);
  const subject = {
    subject_type: `${OB}/rid_${OB}/rty`,
    [`${OB}/rid`]: event.consent_id,
    [`${OB}/rty`]: RESOURCE_TYPE[event.consent_type],
    [`${OB}/rlk`]: [{ version: 'v3.1', link }],
  };
  const body = event.event_type === CONSENT_AUTHORIZATION_REVOKED ? { reason: event.reason, subject } : { subject, status: event.status };
  return {
    iss: issuer,
    iat: epochSeconds(now),
    jti: event.id,
    aud: event.client_id,
    sub: link,
    txn: event.txn,
    toe: epochSeconds(event.occurred_at),
    consent_seq: event.consent_seq,
    events: { [event.event_type]: body },
  };
}

export function signSecurityEvent(provider: Provider, event: ConsentEventRow): Promise<string> {
  return signWithServerKey(provider, securityEventClaims(provider.issuer, event), SET_TYP);
}

import type { Provider } from 'oidc-provider';
import {
  CONSENT_API_PATHS,
  OB_API_PREFIX,
  OB_V4_API_PREFIX,
  UK_OB_V4_CONSENT_TYPES,
  type UkObV4ConsentType,
  V4_CONSENT_API_PATHS,
} from '../protocol/routes.ts';
import type { ConsentEventRow, ConsentType } from '../db/schema.ts';
import { signWithServerKey } from '../oidc/server-signing.ts';
import { CONSENT_AUTHORIZATION_REVOKED } from '../protocol/event-types.ts';
import { v4StatusOf } from '../uk-ob-v4/consent-status.ts';

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

interface ResourceLink {
  version: string;
  link: string;
}

const isV4Type = (type: ConsentType): type is UkObV4ConsentType => (UK_OB_V4_CONSENT_TYPES as readonly ConsentType[]).includes(type);

/**
 * Where the event points, and the consent's status in the words of the version that created it. A
 * UK OB v4.0 consent is linked at its v4.0 path (`sub` and the first link; V4_CONSENT_API_PATHS, where a
 * VRP consent's is under /pisp), and its `rlk` lists its v3.1 path too: the v4.0 Event Notifications
 * resource, OBEventSubject1, "The array of resource links
 * (`http://openbanking.org.uk/rlk`) **must** contain links to all supported versions of the resource",
 * and v3.1 reads every v4.0 consent (docs/uk-ob-v4.md). Its `status` is the v4.0 code its GET shows
 * (a payment consent's revoked or expired RJCT included). Every other consent keeps the v3.1 shape the
 * TPPs already parse: one v3.1 link, the v3.1 status name.
 */
function resourceOf(issuer: string, event: ConsentEventRow): { links: [ResourceLink, ...ResourceLink[]]; status: string } {
  const v3: ResourceLink = {
    version: 'v3.1',
    link: `${issuer}${OB_API_PREFIX}${CONSENT_API_PATHS[event.consent_type]}/${event.consent_id}`,
  };
  if (event.consent_standard !== 'uk_ob_v4' || !isV4Type(event.consent_type)) return { links: [v3], status: event.status };
  const v4: ResourceLink = {
    version: 'v4.0',
    link: `${issuer}${OB_V4_API_PREFIX}${V4_CONSENT_API_PATHS[event.consent_type]}/${event.consent_id}`,
  };
  return { links: [v4, v3], status: v4StatusOf(event.consent_type, event.status) };
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
  const { links, status } = resourceOf(issuer, event);
  const subject = {
    subject_type: `${OB}/rid_${OB}/rty`,
    [`${OB}/rid`]: event.consent_id,
    [`${OB}/rty`]: RESOURCE_TYPE[event.consent_type],
    [`${OB}/rlk`]: links,
  };
  const body = event.event_type === CONSENT_AUTHORIZATION_REVOKED ? { reason: event.reason, subject } : { subject, status };
  return {
    iss: issuer,
    iat: epochSeconds(now),
    jti: event.id,
    aud: event.client_id,
    sub: links[0].link,
    txn: event.txn,
    toe: epochSeconds(event.occurred_at),
    consent_seq: event.consent_seq,
    events: { [event.event_type]: body },
  };
}

export function signSecurityEvent(provider: Provider, event: ConsentEventRow): Promise<string> {
  return signWithServerKey(provider, securityEventClaims(provider.issuer, event), SET_TYP);
}

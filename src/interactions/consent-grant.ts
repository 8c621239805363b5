import type { Grant, Provider } from 'oidc-provider';
import type { Consent } from '../consents/consent.ts';
import { extendGrantUntil, setOwnTtl } from '../engine/engine-internals.ts';
import { DETAILS_TYPE_OF, INTENT_CLAIM } from '../protocol/consent-types.ts';

/**
 * What a grant holds once a customer authorises a consent in it, whichever way the approval came (the
 * consent page, or a decoupled request approved on the customer's own device): everything the request
 * asked for, the intent claim, and one `{type, consent_id}` authorization detail; it ends with the consent.
 */
export function bindConsentToGrant(
  provider: Provider,
  grant: Grant,
  asked: { scope: string; resource?: string | undefined },
  consent: Consent,
  merged: boolean,
): void {
  // The new grant starts empty, so it takes everything the request asked for, not only what is missing.
  grant.addOIDCScope(asked.scope);
  grant.addOIDCClaims([INTENT_CLAIM]);
  if (asked.resource !== undefined) grant.addResourceScope(asked.resource, asked.scope);
  grant.addRar({ type: DETAILS_TYPE_OF[consent.type], consent_id: consent.id });
  lastUntilConsentEnds(grant, consent, merged);
}

/**
 * An open-ended consent (no expiry: UK OB allows it for account access and VRP) ends only when the
 * customer or the TPP ends it, or its payment is made; the engine needs a lifetime in seconds, so its
 * grant gets one that no consent reaches.
 */
export const OPEN_ENDED_GRANT_SECONDS = 100 * 365 * 86_400;

/**
 * A consent's grant, and the refresh token that depends on it (oidc/consent-token-hooks.ts), lives
 * exactly as long as the consent: until its expiry, not cut short by REFRESH_TOKEN_TTL, since a payment
 * or VRP consent left Authorised without a working grant could never be bound again. A merged grant
 * lives as long as its longest consent (each consent's own end still stops its tokens), so merging
 * never cuts short a consent already in it.
 */
function lastUntilConsentEnds(grant: Grant, consent: Consent, merged: boolean) {
  const lifetime = consent.expiresAt ? Math.ceil((consent.expiresAt.getTime() - Date.now()) / 1000) : OPEN_ENDED_GRANT_SECONDS;
  if (merged) extendGrantUntil(grant, Math.floor(Date.now() / 1000) + lifetime);
  else setOwnTtl(grant, lifetime);
}

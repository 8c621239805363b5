import type { Grant, Provider } from 'oidc-provider';
import type { Consent } from '../consents/consent.ts';
import { extendGrantUntil, grantTtlSeconds, setOwnTtl } from '../engine/engine-internals.ts';
import { DETAILS_TYPE_OF, INTENT_CLAIM } from '../protocol/consent-types.ts';

/**
 * What a grant holds once a customer authorises a consent in it, whichever way the approval came (the
 * consent page, or a decoupled request approved on the customer's own device): everything the request
 * asked for, the intent claim, and one `{type, consent_id}` authorization detail; it ends with the consent.
 */
export function bindConsentToGrant(provider: Provider, grant: Grant, asked: { scope: string; resource?: string | undefined }, consent: Consent, merged: boolean): void {
  // The new grant starts empty, so it takes everything the request asked for, not only what is missing.
  grant.addOIDCScope(asked.scope);
  grant.addOIDCClaims([INTENT_CLAIM]);
  if (asked.resource !== undefined) grant.addResourceScope(asked.resource, asked.scope);
  grant.addRar({ type: DETAILS_TYPE_OF[consent.type], consent_id: consent.id });
  lastUntilConsentEnds(provider, grant, consent, merged);
}

/**
 * A new grant, and every token that depends on it, ends with its consent at the latest. A merged
 * grant lives as long as its longest consent (each consent's own end still stops its tokens: see
 * oidc/consent-token-hooks.ts), so merging never cuts short a consent already in it.
 */
function lastUntilConsentEnds(provider: Provider, grant: Grant, consent: Consent, merged: boolean) {
  const untilExpiry = consent.expiresAt ? Math.ceil((consent.expiresAt.getTime() - Date.now()) / 1000) : undefined;
  if (!merged) {
    if (untilExpiry !== undefined) setOwnTtl(grant, Math.min(grant.expiration, untilExpiry));
    return;
  }
  const grantTtl = grantTtlSeconds(provider);
  extendGrantUntil(grant, Math.floor(Date.now() / 1000) + Math.min(untilExpiry ?? grantTtl, grantTtl));
}

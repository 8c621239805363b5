import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Consent } from '../consents/consent.ts';
import {
  type ConsentStanding,
  consentStandingsOfGrant,
  endConsentsOfRevokedToken,
  getConsents,
  getSettledConsents,
} from '../consents/consent-service.ts';
import { grantCompanionOfRequest } from '../store/request-prefetch.ts';
import { type IntrospectionUses, noteConsentUse } from '../consents/consent-use.ts';
import type { Db } from '../db/connect.ts';
import { ukPermissions } from '../uk-ob-v3/consent-out.ts';
import { consentIdsOf } from './consent-binding-hooks.ts';

/**
 * Tokens that carry consents: what a consent-bound access token tells the bank at introspection, and
 * the rules that keep such a token from outliving its consent.
 */

type GrantEntity = { rar?: readonly Record<string, unknown>[]; exp?: number } | undefined;

const grantOf = (ctx: KoaContextWithOIDC | undefined) => ctx?.oidc?.entities.Grant as GrantEntity;

const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * The consent fields introspection returns top-level for a consent-bound token. `permissions` stays in
 * UK OB's codes (resource servers read it; every dialect's reads map to them one-to-one); `access` and
 * `standard` are the model's own (docs/bank-api.md).
 */
export function consentClaims(consent: Consent) {
  return {
    consent_id: consent.id,
    consent_type: consent.type,
    consent_status: consent.status,
    permissions: ukPermissions(consent),
    account_ids: consent.selectedAccountIds,
    expiration: consent.expiresAt ? epochSeconds(consent.expiresAt) : null,
    // Domestic VRP: the limits; what remains of them is live, in authorization_details (vrp-introspection.ts).
    ...(consent.vrp && { control_parameters: consent.vrp.controlParameters }),
    standard: consent.standard,
    access: consent.reads,
  };
}

/** Whether the consent is Authorised in this very grant (re-authentication moves it to another). */
function holdsIn(consent: Consent | undefined, grantId: string | undefined): consent is Consent {
  return consent?.status === 'Authorised' && consent.grantId === grantId;
}

const grantIdOf = (token: object) => (token as { grantId?: string }).grantId;

/**
 * oidc-provider's extraTokenClaims: stored on an opaque access token at issuance and returned
 * top-level by introspection (JSON and JWT alike). The consent cannot change while it is Authorised
 * in this grant, and `recordUseIfConsentHolds` makes every other state read as inactive, so the snapshot is
 * what the bank must know for as long as the token is active. Issuing (a refresh) under a consent
 * that no longer holds is refused outright.
 */
export function consentTokenClaims(db: Db) {
  return async (ctx: KoaContextWithOIDC | undefined, token: object) => {
    const consentIds = consentIdsOf(grantOf(ctx));
    if (consentIds.length === 0) return undefined;
    const read = new Map((await getConsents(db, consentIds)).map((consent) => [consent.id, consent]));
    const consents = consentIds.map((consentId) => read.get(consentId));
    if (!consents.every((consent) => holdsIn(consent, grantIdOf(token))))
      throw new errors.InvalidGrant('the consent behind this grant is no longer authorised');
    const kind = ctx?.oidc.params?.grant_type === 'refresh_token' ? 'refreshed' : 'issued';
    for (const consent of consents as Consent[])
      await noteConsentUse(db, { consentId: consent.id, kind, clientId: ctx?.oidc.client?.clientId ?? consent.clientId });
    // A merged grant (grant management) carries several: the first stays top-level for resource
    // servers that read one consent, and `consents` lists them all.
    return {
      ...consentClaims(consents[0]!),
      ...(consents.length > 1 && { consents: (consents as Consent[]).map((consent) => consentClaims(consent)) }),
    };
  };
}

/**
 * Introspection's last word on a token of a consent-bound grant: true (active) only while each of its
 * consents is Authorised and lives in this very grant, and then it also notes the use for the record
 * (`last_used_at`, at most once a minute; written off the request path by IntrospectionUses), which is
 * why the name says so. The consents' standing was read with the token and its grant, in the same
 * statement (store/request-prefetch.ts), or is read now. Nothing here writes: introspection is the
 * bank's hot path. Revocation, expiry, consumption and re-authentication already destroy the old
 * grant; this holds even for a consent that expired a moment ago.
 */
export async function recordUseIfConsentHolds(db: Db, uses: IntrospectionUses, ctx: KoaContextWithOIDC, token: object): Promise<boolean> {
  // Every consent the token carries and every consent its grant now holds.
  const consentIds = new Set([...consentIdsOf(grantOf(ctx)), ...consentIdsOf(token as { rar?: Record<string, unknown>[] })]);
  if (consentIds.size === 0) return true;
  const grantId = grantIdOf(token);
  if (!grantId) return false;
  const inGrant = new Map(
    (await consentStandingsOfGrant(db, grantId, grantCompanionOfRequest(grantId))).map((standing) => [standing.id, standing]),
  );
  const standings = [...consentIds].map((consentId) => inGrant.get(consentId));
  if (!standings.every((standing) => standing?.status === 'Authorised')) return false;
  // The introspecting client (the bank's resource server, or the TPP itself) used the consent.
  for (const standing of standings as ConsentStanding[]) uses.note(standing.id, ctx.oidc.client?.clientId ?? standing.clientId);
  return true;
}

/**
 * The adapter's last check after storing an access token (a code redemption or a refresh): every
 * consent it was issued under must still hold once any transition in flight has committed. The
 * claims were read before the write, so a DELETE or revocation that destroyed the grant in between
 * would otherwise leave a live-looking row behind and the TPP a 200 for a token already dead.
 */
export async function consentHoldsAfterIssuance(db: Db, payload: { grantId?: string; extra?: Record<string, unknown> }): Promise<boolean> {
  const consentIds = consentIdsOfClaims(payload.extra);
  if (consentIds.length === 0) return true;
  const settled = new Map((await getSettledConsents(db, consentIds)).map((consent) => [consent.id, consent]));
  return consentIds.every((consentId) => holdsIn(settled.get(consentId), payload.grantId));
}

/** The consents a token's stored claims name: the top-level one and, for a merged grant, each in `consents`. */
function consentIdsOfClaims(extra: Record<string, unknown> | undefined): string[] {
  const ids = [
    extra?.consent_id,
    ...(Array.isArray(extra?.consents) ? extra.consents.map((claims: { consent_id?: unknown }) => claims.consent_id) : []),
  ];
  return [...new Set(ids.filter((id): id is string => typeof id === 'string'))];
}

/** An access token's TTL, cut so that it ends with its grant (a consent's grant ends when the consent does). */
export function withinGrant(ttl: number) {
  return (ctx: KoaContextWithOIDC | undefined) => {
    const exp = grantOf(ctx)?.exp;
    if (exp === undefined) return ttl;
    return Math.max(1, Math.min(ttl, exp - Math.floor(Date.now() / 1000)));
  };
}

/**
 * A refresh token's TTL: a consent-bound grant's refresh token lives as long as the grant, that is as
 * long as the consent (interactions/consent-grant.ts), so the TPP keeps access for the consent's whole
 * life without the customer; any other grant's is `ttl`, cut to the grant's end.
 */
export function refreshWithinGrant(ttl: number) {
  const cut = withinGrant(ttl);
  return (ctx: KoaContextWithOIDC | undefined) => {
    const exp = grantOf(ctx)?.exp;
    if (exp === undefined || consentIdsOf(grantOf(ctx)).length === 0) return cut(ctx);
    return Math.max(1, exp - Math.floor(Date.now() / 1000));
  };
}

/**
 * oidc-provider's issueRefreshToken: a client allowed the refresh_token grant gets one, except under a
 * consent to read once (account access that is not recurring: Berlin Group's recurringIndicator false):
 * its one access is the access token's, and a refresh token would outlive the point of the consent.
 * Every other consent's refresh token lives as long as the consent (refreshWithinGrant).
 */
export function issueRefreshTokenFor(db: Db) {
  return async (ctx: KoaContextWithOIDC, client: { grantTypeAllowed(type: string): boolean }) => {
    if (!client.grantTypeAllowed('refresh_token')) return false;
    const consentIds = consentIdsOf(grantOf(ctx));
    if (consentIds.length === 0) return true;
    const consents = await getConsents(db, consentIds);
    return !consents.every((consent) => consent.type === 'account_access' && !consent.recurring);
  };
}

/**
 * The last step of the revocation endpoint's policy, for a token the client may revoke: a token of a
 * consent-bound grant ends its consents first (endConsentsOfRevokedToken says why and what it means).
 * Always true: the revocation goes ahead either way.
 */
export async function endConsentsOfToken(db: Db, clientId: string, token: object): Promise<true> {
  const grantId = grantIdOf(token);
  if (grantId) await endConsentsOfRevokedToken(db, { grantId, clientId });
  return true;
}

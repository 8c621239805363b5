import { type AuthorizationDetail, errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { bindingOfRequest, checkBinding, intentIdOfClaims } from '../uk-ob-v3/consent-binding.ts';
import type { Db } from '../db/connect.ts';
import { AUTHORIZATION_REQUEST_ROUTES } from '../engine/engine-internals.ts';
import { AUTHORIZATION_DETAILS_TYPES, INTENT_CLAIM } from '../protocol/consent-types.ts';
import { CONSENT_SCOPES } from '../protocol/scopes.ts';
import { toOAuthError } from './oauth-errors.ts';
import { withVrpUsage } from './vrp-introspection.ts';

/**
 * Ties authorization requests to consents inside oidc-provider: the claims parameter and the
 * authorization_details types refuse a consent the customer must not see at PAR and at the
 * authorization endpoint, before any page; a bound request always asks the customer.
 */

type Features = NonNullable<Configuration['features']>;

/** The authorization_details types that carry consents; clients may use all of them by default. */
export const CONSENT_DETAILS_TYPES = Object.keys(AUTHORIZATION_DETAILS_TYPES);

async function refuseUnbindable(db: Db, ctx: KoaContextWithOIDC, clientId: string, within?: 'authorization_details') {
  try {
    const binding = bindingOfRequest((ctx.oidc.params ?? {}) as { claims?: unknown; authorization_details?: unknown });
    if (binding) await checkBinding(db, clientId, binding, String(ctx.oidc.params?.scope ?? ''));
  } catch (error) {
    throw toOAuthError(error, within);
  }
}

/**
 * RFC 9396 needs a resource indicator: consent-bound authorization_details default to the bank's Open
 * Banking APIs, whose tokens then carry that audience. Requests without details keep no resource.
 */
function openBankingResource(issuer: string) {
  const indicator = `${issuer}/open-banking`;
  return {
    enabled: true,
    defaultResource: (ctx: KoaContextWithOIDC) => (ctx.oidc.params?.authorization_details === undefined ? undefined : indicator),
    useGrantedResource: () => true,
    getResourceServerInfo(_ctx: KoaContextWithOIDC, resource: string) {
      if (resource !== indicator) throw new errors.InvalidTarget();
      return { scope: CONSENT_SCOPES.join(' '), audience: indicator, accessTokenFormat: 'opaque' as const };
    },
  };
}

export function consentBindingFeatures(db: Db, issuer: string) {
  const validate = async (ctx: KoaContextWithOIDC, _detail: unknown, client: { clientId: string }) => {
    if (!AUTHORIZATION_REQUEST_ROUTES.has(ctx.oidc.route))
      throw new errors.InvalidAuthorizationDetails('consent authorization_details belong in authorization requests');
    await refuseUnbindable(db, ctx, client.clientId, 'authorization_details');
  };
  return {
    resourceIndicators: openBankingResource(issuer),
    claimsParameter: {
      enabled: true,
      async assertClaimsParameter(ctx: KoaContextWithOIDC, claims: unknown, client: { clientId: string }) {
        try {
          if (intentIdOfClaims(claims) === undefined) return;
        } catch (error) {
          throw toOAuthError(error);
        }
        await refuseUnbindable(db, ctx, client.clientId);
      },
    } as Features['claimsParameter'],
    richAuthorizationRequests: {
      enabled: true,
      types: Object.fromEntries(CONSENT_DETAILS_TYPES.map((type) => [type, { validate }])),
      // The grant holds one {type, consent_id} entry per consent the customer authorised (consent-step.ts).
      authorizationDetailsForGrantSource: (ctx: KoaContextWithOIDC) => ctx.oidc.grant?.rar,
      authorizationDetailsForAccessToken: (ctx: KoaContextWithOIDC, _token: unknown, source?: { rar?: AuthorizationDetail[] }) =>
        detailsStillInGrant(ctx, source),
      authorizationDetailsForIntrospection: (_ctx: KoaContextWithOIDC, token: { rar?: AuthorizationDetail[] }) =>
        withVrpUsage(db, token.rar),
    },
  };
}

/**
 * Adds to a policy's consent prompt: a request that names a consent is always put to the customer,
 * even when an earlier grant already covers its scopes. Takes the policy so other prompts compose.
 */
export function consentBindingPolicy(policy = interactionPolicy.base()) {
  policy.get('consent')!.checks.add(
    new interactionPolicy.Check('openbanking_intent', 'a consent must be authorised by the customer', (ctx) => {
      const claims = ctx.oidc.params?.claims;
      const named =
        typeof claims === 'string' && (JSON.parse(claims) as { id_token?: Record<string, unknown> }).id_token?.[INTENT_CLAIM] !== undefined;
      return named && !ctx.oidc.result?.consent ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
    }),
  );
  return policy;
}

/** The consent ids in a grant's (or a token's) authorization details: several after a grant management merge. */
export function consentIdsOf(holder: { rar?: readonly Record<string, unknown>[] } | undefined): string[] {
  return (holder?.rar ?? []).map((detail) => detail.consent_id).filter((id): id is string => typeof id === 'string');
}

/** The consent id a grant was first authorised for, from its authorization details. */
export function consentIdOfGrant(grant: { rar?: readonly Record<string, unknown>[] } | undefined): string | undefined {
  return consentIdsOf(grant)[0];
}

/**
 * A token's authorization details: what its source (grant or refresh token) carries, less any consent
 * that has since left the grant (grant management: one consent of a merged grant ended).
 */
function detailsStillInGrant(ctx: KoaContextWithOIDC, source?: { rar?: AuthorizationDetail[] }) {
  const grant = ctx.oidc.entities.Grant as { rar?: AuthorizationDetail[] } | undefined;
  if (!source?.rar || !grant || source === grant) return source?.rar;
  const held = new Set(consentIdsOf(grant));
  return source.rar.filter((detail) => typeof detail.consent_id !== 'string' || held.has(detail.consent_id));
}

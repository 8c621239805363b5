import { type AuthorizationDetail, errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { checkScaBinding, hasScaScope, scaScopeOf } from '../berlin-group/bg-sca-binding.ts';
import { BindingRefused } from '../consents/consent-errors.ts';
import { getConsentForClient } from '../consents/consent-service.ts';
import { bindingOfRequest, checkBinding, type ConsentBinding, intentIdOfClaims } from '../uk-ob-v3/consent-binding.ts';
import type { Db } from '../db/connect.ts';
import { AUTHORIZATION_REQUEST_ROUTES } from '../engine/engine-internals.ts';
import type { ClientCertificateReader } from '../http/client-certificate.ts';
import { AUTHORIZATION_DETAILS_TYPES, INTENT_CLAIM } from '../protocol/consent-types.ts';
import { CONSENT_SCOPES } from '../protocol/scopes.ts';
import type { EidasTrust } from '../tpp/eidas-trust.ts';
import { isEidasClient, presentedEidasTpp } from './eidas-client-auth.ts';
import { toOAuthError } from './oauth-errors.ts';
import { withVrpUsage } from './vrp-introspection.ts';

/**
 * Ties authorization requests to consents inside oidc-provider: the claims parameter, the
 * authorization_details types and the Berlin Group's `AIS:<consentId>` / `PIS:<paymentId>` scope refuse
 * a consent the customer must not see at PAR and at the authorization endpoint, before any page; a
 * bound request always asks the customer.
 *
 * Two kinds of TPP bind consents. A registered TPP binds its UK consents by the claims parameter or
 * authorization_details (uk-ob-v3/consent-binding.ts), to its registered redirect URIs. A TPP known by its
 * eIDAS certificate (tpp/eidas-client.ts) binds its Berlin Group consents by the SCA scope or
 * authorization_details (berlin-group/bg-sca-binding.ts), to each consent's own TPP-Redirect-URI, and
 * makes no other authorization request: it registered no redirect URI, so one binding none of its
 * consents would make Assent an open redirector. oidc-provider accepts a redirect URI no client
 * registered at PAR (`allowUnregisteredRedirectUris`, set in provider.ts for this) and Assent decides
 * here, after the library's own checks and before anything is written: `checkAuthorizationRequest`
 * runs on every authorization request (as an `extraParams` validator).
 */

type Features = NonNullable<Configuration['features']>;

/** The authorization_details types that carry consents; clients may use all of them by default. */
export const CONSENT_DETAILS_TYPES = Object.keys(AUTHORIZATION_DETAILS_TYPES);

type AuthorizationParams = { claims?: unknown; authorization_details?: unknown; scope?: unknown; redirect_uri?: unknown };

/** How eIDAS clients are told apart and their certificates' roles read (absent: the server knows none). */
export interface EidasBinding {
  presentedCertificate: ClientCertificateReader;
  trust: EidasTrust;
}

/**
 * The consent an authorization request binds, however it names it: claims or authorization_details
 * (uk-ob-v3) and the SCA scope (berlin-group), which must then agree. Undefined when none is named.
 */
export function requestBinding(params: AuthorizationParams): ConsentBinding | undefined {
  const named = bindingOfRequest(params);
  const sca = scaScopeOf(typeof params.scope === 'string' ? params.scope : '');
  if (!sca) return named;
  if (named && (named.kind !== 'consent' || named.consentId !== sca.consentId)) {
    throw new BindingRefused(`the ${sca.service}: scope and the authorization_details name different consents`);
  }
  return { kind: 'consent', consentId: sca.consentId, type: named?.type ?? sca.type };
}

/** A Berlin Group consent, bound by a TPP known by its eIDAS certificate: berlin-group/bg-sca-binding.ts decides. */
async function checkEidasBinding(db: Db, eidas: EidasBinding, ctx: KoaContextWithOIDC, clientId: string, binding?: ConsentBinding) {
  if (!binding) {
    throw new BindingRefused(
      'a TPP known by its eIDAS certificate authorises only its Berlin Group consents: name one by scope AIS:<consentId> or PIS:<paymentId>',
    );
  }
  if (binding.kind !== 'consent') throw new BindingRefused('authorization_details name the Berlin Group consent by its consent_id');
  const consent = await getConsentForClient(db, clientId, binding.consentId);
  checkScaBinding(consent, {
    type: binding.type,
    redirectUri: ctx.oidc.params?.redirect_uri,
    // The TPP's certificate is there at PAR; at the authorization endpoint it is the customer's browser.
    roles:
      ctx.oidc.route === 'pushed_authorization_request'
        ? (presentedEidasTpp(ctx, eidas.presentedCertificate, eidas.trust)?.roles ?? [])
        : undefined,
  });
}

/** Refuses a request binding what its client may not bind (or, for an eIDAS client, binding nothing). */
async function refuseUnbindable(
  db: Db,
  eidas: EidasBinding | undefined,
  ctx: KoaContextWithOIDC,
  client: object & { clientId: string },
  within?: 'authorization_details',
) {
  try {
    const params = (ctx.oidc.params ?? {}) as AuthorizationParams;
    const binding = requestBinding(params);
    if (eidas && isEidasClient(client)) return await checkEidasBinding(db, eidas, ctx, client.clientId, binding);
    if (scaScopeOf(String(params.scope ?? '')))
      throw new BindingRefused('the AIS: and PIS: scopes are for TPPs known by their eIDAS certificate');
    if (binding) await checkBinding(db, client.clientId, binding, String(params.scope ?? ''));
  } catch (error) {
    throw toOAuthError(error, within);
  }
}

/** The routes where the request carries a redirect_uri (CIBA's has none). */
const REDIRECTING_ROUTES: ReadonlySet<string> = new Set(['authorization', 'pushed_authorization_request']);

/**
 * The last check of every authorization request (oidc-provider's `extraParams` validators run after
 * its own, claims and authorization_details included): a registered TPP's redirect_uri must be one it
 * registered (the library lets unregistered ones through to here, see above); a request naming its
 * consent only by the SCA scope, or naming none, is checked as the claims and details hooks check theirs.
 */
export function authorizationRequestCheck(db: Db, eidas: EidasBinding | undefined) {
  return async function checkAuthorizationRequest(
    ctx: KoaContextWithOIDC,
    _value: unknown,
    client?: object & { clientId: string; redirectUriAllowed(uri: string): boolean },
  ) {
    if (!client || !AUTHORIZATION_REQUEST_ROUTES.has(ctx.oidc.route)) return;
    const params = (ctx.oidc.params ?? {}) as AuthorizationParams;
    const eidasClient = eidas !== undefined && isEidasClient(client);
    if (REDIRECTING_ROUTES.has(ctx.oidc.route) && !eidasClient && !client.redirectUriAllowed(String(params.redirect_uri))) {
      throw new errors.InvalidRedirectUri();
    }
    // A registered TPP's claims and authorization_details were checked by their own hooks; an eIDAS
    // client's request is checked here whatever it carries (an empty authorization_details runs no hook).
    if (!eidasClient && namedByClaimsOrDetails(params)) return;
    await refuseUnbindable(db, eidas, ctx, client);
  };
}

function namedByClaimsOrDetails(params: AuthorizationParams): boolean {
  try {
    return bindingOfRequest(params) !== undefined;
  } catch {
    // Malformed: already refused by the hook that read it.
    return true;
  }
}

/**
 * RFC 9396 needs a resource indicator: consent-bound authorization_details default to the bank's Open
 * Banking APIs, whose tokens then carry that audience. So does the Berlin Group's SCA scope, which the
 * library would otherwise drop from a request without a resource before any hook sees it (it keeps
 * only the scopes it knows). Requests without either keep no resource.
 */
function openBankingResource(issuer: string) {
  const indicator = `${issuer}/open-banking`;
  return {
    enabled: true,
    defaultResource: (ctx: KoaContextWithOIDC) =>
      ctx.oidc.params?.authorization_details === undefined && !hasScaScope(String(ctx.oidc.params?.scope ?? '')) ? undefined : indicator,
    useGrantedResource: () => true,
    getResourceServerInfo(_ctx: KoaContextWithOIDC, resource: string) {
      if (resource !== indicator) throw new errors.InvalidTarget();
      return { scope: CONSENT_SCOPES.join(' '), audience: indicator, accessTokenFormat: 'opaque' as const };
    },
  };
}

export function consentBindingFeatures(db: Db, issuer: string, eidas?: EidasBinding) {
  const validate = async (ctx: KoaContextWithOIDC, _detail: unknown, client: { clientId: string }) => {
    if (!AUTHORIZATION_REQUEST_ROUTES.has(ctx.oidc.route))
      throw new errors.InvalidAuthorizationDetails('consent authorization_details belong in authorization requests');
    await refuseUnbindable(db, eidas, ctx, client, 'authorization_details');
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
        await refuseUnbindable(db, eidas, ctx, client);
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
        (typeof claims === 'string' &&
          (JSON.parse(claims) as { id_token?: Record<string, unknown> }).id_token?.[INTENT_CLAIM] !== undefined) ||
        // The SCA scope is no scope the engine knows, so nothing else would ask the customer about it.
        scaScopeOf(String(ctx.oidc.params?.scope ?? '')) !== undefined;
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

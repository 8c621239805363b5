import { createHash, randomUUID } from 'node:crypto';
import { Provider, errors, type CIBAEnabledConfiguration, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/connect.ts';
import { customerOfCompanion, customerWithRow, getCustomer } from '../customers/customer-service.ts';
import { grantManagementDiscovery, grantManagementParams } from './grant-management.ts';
import type { ClientCertificateReader } from '../http/client-certificate.ts';
import type { OutboundFetch } from '../http/outbound-fetch.ts';
import { aroundGrant, extraClientProperty, replaceReplayCheck, replaceSessionRotation } from '../engine/engine-internals.ts';
import { FAPI_ALGORITHMS, FAPI_CLIENT_AUTH_METHODS } from '../protocol/algorithms.ts';
import { ENGINE_PATHS, INTERACTION_PREFIX } from '../protocol/routes.ts';
import { SCOPE, SCOPES } from '../protocol/scopes.ts';
import { advertiseWhatAssentServes } from './advertised-metadata.ts';
import { CIBA_DELIVERY_MODES } from '../protocol/ciba.ts';
import { batchedClientStanding, clientStanding, clientStandingOfCompanion, clientStandingWithRow } from '../tpp/tpp-service.ts';
import { admitRequestClient } from '../ops/rate-limit.ts';
import { SCA_ACR } from '../protocol/acr.ts';
import { INTENT_CLAIM } from '../protocol/consent-types.ts';
import { createModelFind, KyselyAdapter, kyselyAdapterFactory } from '../store/adapter.ts';
import type { BatchedFind } from '../store/batched-find.ts';
import type { ClientCache } from '../store/client-cache.ts';
import { takeAccountOfRequest } from '../store/request-prefetch.ts';
import { savingSessionReplacing } from '../store/session-rotation.ts';
import { certificateSubjectMatches } from '../http/certificate-subject.ts';
import { CLIENT_KINDS, type ClientKind, clientKindOf } from '../protocol/client-kind.ts';
import { expiresWithSession, loadExistingGrant } from './authorization-grant.ts';
import {
  authorizationRequestCheck,
  CONSENT_DETAILS_TYPES,
  consentBindingFeatures,
  consentBindingPolicy,
  consentIdOfGrant,
} from './consent-binding-hooks.ts';
import type { EidasTrust } from '../tpp/eidas-trust.ts';
import { withEidasClients } from './eidas-client-auth.ts';
import type { IntrospectionUses } from '../consents/consent-use.ts';
import {
  consentHoldsAfterIssuance,
  endConsentsOfToken,
  issueRefreshTokenFor,
  recordUseIfConsentHolds,
  consentTokenClaims,
  refreshWithinGrant,
  withinGrant,
} from './consent-token-hooks.ts';
import { CODE_REUSED, consentStandingsWithGrant, endGrantOfReuse, REFRESH_TOKEN_REUSED } from '../consents/consent-service.ts';
import type { CustomerPages } from './customer-pages.ts';
import type { ServerKeys } from './keys.ts';
import { scaInteractionPolicy } from './sca-policy.ts';
import { dpopFeature } from './dpop-nonces.ts';

const FAPI_PROFILES = ['2.0', '1.0 Final'] as const;
type FapiProfile = (typeof FAPI_PROFILES)[number];

/** How long a pushed authorization request (the link a TPP sends the customer to) lives; it works once. */
export const PAR_LIFETIME_SECONDS = 60;
/** How long a customer has, from opening that link, to sign in and decide. */
export const INTERACTION_LIFETIME_SECONDS = 600;

/**
 * CIBA (decoupled authentication): the hooks come from src/ciba/, where the customer's authentication
 * device lives, above the provider; without them the backchannel endpoint is off.
 */
export interface CibaSettings {
  hooks: Pick<
    CIBAEnabledConfiguration,
    | 'processLoginHint'
    | 'processLoginHintToken'
    | 'verifyUserCode'
    | 'validateBindingMessage'
    | 'validateRequestContext'
    | 'triggerAuthenticationDevice'
  >;
  /** The longest a request waits for the customer; a TPP's requested_expiry may only shorten it. */
  requestLifetimeSeconds: number;
}

export interface ProviderSettings {
  issuer: string;
  db: Db;
  keys: ServerKeys;
  presentedCertificate: ClientCertificateReader;
  /**
   * The eIDAS trust (CAs, CRLs) that TPPs known by their QWAC are checked against when they authenticate
   * as clients (tls_client_auth, oidc/eidas-client-auth.ts); without it no eIDAS client authenticates.
   */
  eidasTrust?: EidasTrust;
  /** The SSRF guard; every URL the provider fetches (jwks_uri, sector_identifier_uri) goes through it. */
  outbound: OutboundFetch;
  ttl: { accessToken: number; refreshToken: number; authorizationCode: number; session: number };
  refreshTokenRotation: boolean;
  /** DPoP server nonces at the provider's endpoints, and so at Assent's own (dpop-nonces.ts). */
  dpopNonces: 'required' | 'off';
  clientCache: ClientCache;
  /** Assent's templates for the pages the provider draws itself (errors, logout). */
  pages: CustomerPages;
  /** Told whenever a suspended or deleted TPP's client was refused (a security event). */
  onRefusedClient?: (clientId: string) => void;
  ciba?: CibaSettings;
  /** Where introspections of consent-bound tokens are noted, to be recorded off the request path. */
  introspectionUses: IntrospectionUses;
  /** The adapter's finds by id (modelFind), shared with the pages. */
  find: BatchedFind;
}

/**
 * The adapter's finds by id with what the domains read alongside each row, in the same statement: a
 * token's grant with the standing of the consents it holds; a row naming a customer (a decided
 * interaction, a session, a code) with the customer, findAccount's read; an interaction with its client's
 * standing, which the resume loads next. One per process, shared by the provider's adapter and the pages.
 */
export function modelFind(db: Db): BatchedFind {
  return createModelFind(db, { grant: consentStandingsWithGrant, account: customerWithRow, client: clientStandingWithRow });
}

function fapiProfile(_ctx: KoaContextWithOIDC, client: object | undefined): FapiProfile {
  return client && extraClientProperty(client, 'fapi_profile') === '1.0 Final' ? '1.0 Final' : '2.0';
}

/**
 * FAPI never issues bearer tokens: a client commits at registration to DPoP or to mTLS-bound tokens,
 * and the library then refuses any token request without that proof. FAPI 1.0 knows only mTLS.
 */
function requireSenderConstrainedTokens(profile: FapiProfile, metadata: Record<string, unknown>) {
  const mtls = metadata.tls_client_certificate_bound_access_tokens === true;
  const dpop = metadata.dpop_bound_access_tokens === true;
  if (profile === '1.0 Final' && !mtls) {
    throw new errors.InvalidClientMetadata('FAPI 1.0 clients must set tls_client_certificate_bound_access_tokens');
  }
  if (!mtls && !dpop) {
    throw new errors.InvalidClientMetadata(
      'sender-constrained tokens are required: set dpop_bound_access_tokens or tls_client_certificate_bound_access_tokens',
    );
  }
}

/**
 * Resource servers take no part in any customer's grant: they introspect, and get client_credentials
 * tokens for the bank API only.
 */
function validateClientKind(value: unknown, metadata: Record<string, unknown>) {
  if (value !== undefined && !CLIENT_KINDS.includes(value as ClientKind)) {
    throw new errors.InvalidClientMetadata(`client_kind must be one of ${CLIENT_KINDS.join(', ')}`);
  }
  const grants = (metadata.grant_types as unknown[] | undefined) ?? [];
  const redirects = metadata.redirect_uris as unknown[] | undefined;
  // The provider lets PAR clients go without redirect_uris (allowUnregisteredRedirectUris, for eIDAS
  // clients, whose consents carry theirs); every other client that redirects still registers them.
  const responseTypes = (metadata.response_types as unknown[] | undefined) ?? [];
  if (value !== 'eidas_tpp' && responseTypes.length > 0 && (redirects?.length ?? 0) === 0) {
    throw new errors.InvalidClientMetadata('redirect_uris must contain members');
  }
  if (value === 'resource_server' && (grants.some((grant) => grant !== 'client_credentials') || (redirects?.length ?? 0) > 0)) {
    throw new errors.InvalidClientMetadata('a resource server has no grant_types but client_credentials and no redirect_uris');
  }
  if (
    value !== 'resource_server' &&
    String(metadata.scope ?? '')
      .split(' ')
      .includes(SCOPE.bank)
  ) {
    throw new errors.InvalidClientMetadata(`the ${SCOPE.bank} scope is for the bank's resource servers`);
  }
}

function isResourceServer(client: object) {
  return clientKindOf({ client_kind: extraClientProperty(client, 'client_kind') }) === 'resource_server';
}

function ownTokensOnly(_ctx: KoaContextWithOIDC, client: { clientId: string }, token: { clientId?: string }) {
  return token.clientId === client.clientId;
}

/**
 * Assent's FAPI 2.0 settings of the engine itself: client authentication, algorithms, PKCE, PAR,
 * sender-constrained tokens, introspection and revocation switched on. createProvider builds on them,
 * and the benchmark runs a plain oidc-provider with exactly these (bench/bare-engine.ts).
 */
export function fapiConfiguration(presentedCertificate: ClientCertificateReader, eidasTrust?: EidasTrust) {
  const mtlsHooks = withEidasClients(
    {
      certificateAuthorized: (ctx) => presentedCertificate(ctx.req)?.authorized ?? false,
      certificateSubjectMatches(ctx, property, expected) {
        const presented = presentedCertificate(ctx.req);
        return presented !== undefined && certificateSubjectMatches(presented.certificate, property, expected);
      },
    },
    presentedCertificate,
    eidasTrust,
  );
  return {
    scopes: [...SCOPES],
    responseTypes: ['code'],
    clientAuthMethods: [...FAPI_CLIENT_AUTH_METHODS],
    pkce: { required: () => true },
    enabledJWA: {
      authorizationSigningAlgValues: [...FAPI_ALGORITHMS],
      clientAuthSigningAlgValues: [...FAPI_ALGORITHMS],
      dPoPSigningAlgValues: [...FAPI_ALGORITHMS],
      idTokenSigningAlgValues: [...FAPI_ALGORITHMS],
      introspectionSigningAlgValues: [...FAPI_ALGORITHMS],
      requestObjectSigningAlgValues: [...FAPI_ALGORITHMS],
      userinfoSigningAlgValues: [...FAPI_ALGORITHMS],
    } as Configuration['enabledJWA'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      id_token_signed_response_alg: 'PS256',
      authorization_signed_response_alg: 'PS256',
      introspection_signed_response_alg: 'PS256',
      // Every consent type; binding one still needs the matching scope (uk-ob-v3/consent-binding.ts).
      authorization_details_types: CONSENT_DETAILS_TYPES,
    },
    features: {
      devInteractions: { enabled: false },
      fapi: { enabled: true, profile: fapiProfile },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
      requestObjects: { enabled: true, requireSignedRequestObject: false },
      jwtResponseModes: { enabled: true },
      dPoP: { enabled: true },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: true,
        getCertificate: (ctx) => presentedCertificate(ctx.req)?.certificate,
        ...mtlsHooks,
      },
      introspection: { enabled: true },
      jwtIntrospection: { enabled: true },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
    },
  } satisfies Configuration;
}

export function createProvider(settings: ProviderSettings): Provider {
  const { db, presentedCertificate, ttl } = settings;
  const eidas = settings.eidasTrust && { presentedCertificate, trust: settings.eidasTrust };
  const consentBinding = consentBindingFeatures(db, settings.issuer, eidas);
  const fapi = fapiConfiguration(presentedCertificate, settings.eidasTrust);
  // A suspended TPP's client does not exist for the provider (see tpp/); clients are cached until they change.
  const standings = batchedClientStanding(db);
  const Adapter = kyselyAdapterFactory(db, {
    async clientStanding(database, clientId, kept) {
      // Read with the request's interaction; else, inside a transaction (a registration) the read belongs
      // to it, and elsewhere it joins a batch.
      const standing = kept
        ? clientStandingOfCompanion(kept.companion)
        : database === db
          ? await standings(clientId)
          : await clientStanding(database, clientId);
      if (!standing.usable) settings.onRefusedClient?.(clientId);
      else await admitRequestClient(database, clientId, standing.throttle);
      return standing;
    },
    clientCache: settings.clientCache,
    batchedFind: settings.find,
    issuanceHolds: consentHoldsAfterIssuance,
    sourceReused: (database, grantId, model) =>
      endGrantOfReuse(database, grantId, model === 'AuthorizationCode' ? CODE_REUSED : REFRESH_TOKEN_REUSED),
  });

  const configuration: Configuration = {
    ...fapi,
    adapter: Adapter,
    fetch: settings.outbound.asFetch,
    routes: ENGINE_PATHS,
    jwks: { keys: settings.keys.signing as NonNullable<Configuration['jwks']>['keys'] },
    cookies: { keys: settings.keys.cookie },
    // FAPI Grant Management (src/grants/): the parameters at PAR, the endpoint in discovery.
    renderError: settings.pages.renderError,
    // The last check of every authorization request, keyed on `scope` since the Berlin Group's SCA scope
    // names a consent too: redirect URIs and consent bindings (consent-binding-hooks.ts).
    extraParams: { ...grantManagementParams(), scope: authorizationRequestCheck(db, eidas) },
    discovery: { claim_types_supported: ['normal'], ...grantManagementDiscovery(settings.issuer) },
    // openbanking_intent_id rides on openid so the id token of a consent-bound grant always carries it.
    claims: { openid: ['sub', 'acr', 'amr', 'auth_time', INTENT_CLAIM], profile: ['name', 'preferred_username'] },
    // Only strong customer authentication is ever issued; a request for it as essential (claims
    // parameter) sends back to login any session that lacks it.
    acrValues: [SCA_ACR],
    extraClientMetadata: {
      properties: ['fapi_profile', 'client_kind'],
      validator(_ctx, key, value, metadata) {
        if (key === 'client_kind') {
          validateClientKind(value, metadata);
          return;
        }
        if (key !== 'fapi_profile') return;
        if (value !== undefined && !FAPI_PROFILES.includes(value as FapiProfile)) {
          throw new errors.InvalidClientMetadata(`fapi_profile must be one of ${FAPI_PROFILES.join(', ')}`);
        }
        if (clientKindOf(metadata) !== 'resource_server')
          requireSenderConstrainedTokens(value === '1.0 Final' ? '1.0 Final' : '2.0', metadata);
      },
    },
    features: {
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: settings.pages.logoutSource,
        postLogoutSuccessSource: settings.pages.postLogoutSuccessSource,
      },
      ...fapi.features,
      // RFC 9449 server nonces (DPOP_NONCES), which Assent's own APIs check too.
      dPoP: dpopFeature(settings.keys, settings.dpopNonces),
      // An eIDAS client registers no redirect URI: the library lets an unregistered one through at PAR and
      // Assent accepts only the registered ones, or a Berlin Group consent's own (consent-binding-hooks.ts).
      pushedAuthorizationRequests: { ...fapi.features.pushedAuthorizationRequests, allowUnregisteredRedirectUris: true },
      // Resource servers introspect any token; a TPP only its own (another TPP's token reads as inactive).
      // A token of a consent-bound grant is active only while its consent is Authorised in that grant.
      introspection: {
        enabled: true,
        allowedPolicy: async (ctx, client, token) =>
          (isResourceServer(client) || ownTokensOnly(ctx, client, token)) &&
          (await recordUseIfConsentHolds(db, settings.introspectionUses, ctx, token)),
      },
      // RFC 7009: a TPP revokes only its own tokens; one of a consent-bound grant ends the consent with it.
      revocation: {
        enabled: true,
        allowedPolicy: async (ctx, client, token) =>
          ownTokensOnly(ctx, client, token) && (await endConsentsOfToken(db, client.clientId, token)),
      },
      // Open to TPPs with a software statement; tpp/registration-middleware.ts checks it before these run.
      // Client ids are UUIDs: the library's default may start with '-', which command lines read as an option.
      registration: { enabled: true, initialAccessToken: false, issueRegistrationAccessToken: true, idFactory: () => randomUUID() },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
      userinfo: { enabled: true },
      resourceIndicators: consentBinding.resourceIndicators,
      claimsParameter: consentBinding.claimsParameter,
      richAuthorizationRequests: consentBinding.richAuthorizationRequests,
      // FAPI-CIBA: poll and ping only (push would hand tokens to a URL, unbound).
      ciba: settings.ciba ? { enabled: true, deliveryModes: [...CIBA_DELIVERY_MODES], ...settings.ciba.hooks } : { enabled: false },
    },
    // Stored on opaque access tokens at issuance; introspection returns them (consent-token-hooks.ts).
    extraTokenClaims: consentTokenClaims(db),
    // No token outlives its grant, and a consent's grant ends when the consent expires.
    ttl: {
      AccessToken: withinGrant(ttl.accessToken),
      AuthorizationCode: ttl.authorizationCode,
      BackchannelAuthenticationRequest: (ctx) => backchannelLifetime(ctx, settings.ciba?.requestLifetimeSeconds ?? 0),
      ClientCredentials: ttl.accessToken,
      IdToken: ttl.accessToken,
      RefreshToken: refreshWithinGrant(ttl.refreshToken),
      Grant: ttl.refreshToken,
      Interaction: INTERACTION_LIFETIME_SECONDS,
      PushedAuthorizationRequest: PAR_LIFETIME_SECONDS,
      Session: ttl.session,
    },
    // With rotation, a reused (or raced) refresh token revokes the whole grant: see KyselyAdapter.consume.
    rotateRefreshToken: settings.refreshTokenRotation,
    issueRefreshToken: issueRefreshTokenFor(db),
    interactions: {
      policy: consentBindingPolicy(scaInteractionPolicy()),
      url: (_ctx, interaction) => INTERACTION_PREFIX.replace(':uid', interaction.uid),
    },
    loadExistingGrant,
    expiresWithSession,
    async findAccount(ctx, sub) {
      // Read with this request's interaction, session or code when one named `sub`; else (CIBA's hint, userinfo) now.
      const kept = takeAccountOfRequest(sub);
      const customer = kept ? customerOfCompanion(kept.companion) : await getCustomer(db, sub);
      if (!customer) return ctx.oidc.route === 'backchannel_authentication' ? nobodyToTell(sub) : undefined;
      return {
        accountId: customer.id,
        claims: () => ({
          sub: customer.id,
          name: customer.displayName,
          preferred_username: customer.username,
          [INTENT_CLAIM]: consentIdOfGrant(ctx.oidc.entities.Grant),
        }),
      };
    },
  };

  const provider = new Provider(settings.issuer, configuration);
  provider.use(advertiseWhatAssentServes);
  useAtomicReplayDetection(provider, new Adapter('ReplayDetection'));
  // A resumed login's new session id replaces the old in one statement, not a delete and then an upsert.
  replaceSessionRotation(provider, savingSessionReplacing);
  endConsentsOnRefreshReuse(provider, db);
  return provider;
}

/** The library's words when it finds a rotated refresh token presented again. */
const LIBRARY_REFRESH_REUSE = 'refresh token already used';

/**
 * A rotated refresh token presented again is caught by the library itself (it reads `consumed`): it
 * revokes the grant's tokens and the grant, but knows nothing of the consents living in it. They end
 * here as the adapter ends them when two redemptions race (`sourceReused`), Revoked and audited.
 */
function endConsentsOnRefreshReuse(provider: Provider, db: Db) {
  aroundGrant(provider, 'refresh_token', async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const grantId = ctx.oidc.entities.RefreshToken?.grantId;
      if (error instanceof errors.InvalidGrant && error.error_detail === LIBRARY_REFRESH_REUSE && grantId)
        await endGrantOfReuse(db, grantId, REFRESH_TOKEN_REUSED);
      throw error;
    }
  });
}

/**
 * A decoupled request's hint that names no customer is accepted like any other (src/ciba/ records it
 * for no one, so it only ever expires): the TPP must not learn who banks here. Only the backchannel
 * endpoint gets this stand-in; no token is ever issued for it.
 */
function nobodyToTell(sub: string) {
  return { accountId: sub, claims: () => ({ sub }) };
}

/** A TPP's requested_expiry may shorten a decoupled request, never lengthen it. */
function backchannelLifetime(ctx: KoaContextWithOIDC | undefined, lifetime: number): number {
  const requested = Number(ctx?.oidc.params?.requested_expiry);
  return Number.isSafeInteger(requested) && requested > 0 ? Math.min(requested, lifetime) : lifetime;
}

/**
 * The library's ReplayDetection.unique is find-then-save, so two concurrent replays of one DPoP proof
 * or client assertion both pass. An insert that only succeeds when no live row holds the id does not.
 */
function useAtomicReplayDetection(provider: Provider, replays: KyselyAdapter) {
  replaceReplayCheck(provider, async (iss, jti, exp) => {
    const id = createHash('sha256').update(`${iss}${jti}`).digest('base64url');
    const expiresIn = Math.max(exp - Math.floor(Date.now() / 1000), 1);
    return replays.insertIfAbsent(id, { jti: id, iss, kind: 'ReplayDetection' }, expiresIn);
  });
}

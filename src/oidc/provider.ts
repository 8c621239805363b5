import { createHash } from 'node:crypto';
import { Provider, errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Db } from '../db/connect.ts';
import { getCustomer } from '../customers/customer-service.ts';
import type { ClientCertificateReader } from '../http/client-certificate.ts';
import { KyselyAdapter, kyselyAdapterFactory } from './adapter.ts';
import { certificateSubjectMatches } from './certificate-subject.ts';
import type { ServerKeys } from './keys.ts';

/** FAPI 2.0 permits these two JWS algorithms and no others, for every signature the server sees or makes. */
const FAPI_ALGORITHMS = ['PS256', 'ES256'];

export const FAPI_CLIENT_AUTH_METHODS = ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'] as const;

export const SCOPES = ['openid', 'offline_access', 'accounts', 'payments', 'fundsconfirmations'];

const FAPI_PROFILES = ['2.0', '1.0 Final'] as const;
type FapiProfile = (typeof FAPI_PROFILES)[number];

export interface ProviderSettings {
  issuer: string;
  db: Db;
  keys: ServerKeys;
  presentedCertificate: ClientCertificateReader;
  ttl: { accessToken: number; refreshToken: number; authorizationCode: number; session: number };
  /** Benchmark baseline only: oidc-provider's own in-memory adapter, state private to this process. */
  inMemoryStore?: boolean;
}

function fapiProfile(_ctx: KoaContextWithOIDC, client: { metadata(): Record<string, unknown> } | undefined): FapiProfile {
  const chosen = client?.metadata().fapi_profile;
  return chosen === '1.0 Final' ? '1.0 Final' : '2.0';
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
    throw new errors.InvalidClientMetadata('sender-constrained tokens are required: set dpop_bound_access_tokens or tls_client_certificate_bound_access_tokens');
  }
}

function ownTokensOnly(_ctx: KoaContextWithOIDC, client: { clientId: string }, token: { clientId?: string }) {
  return token.clientId === client.clientId;
}

export function createProvider(settings: ProviderSettings): Provider {
  const { db, presentedCertificate, ttl } = settings;

  const configuration: Configuration = {
    adapter: settings.inMemoryStore ? undefined : kyselyAdapterFactory(db),
    jwks: { keys: settings.keys.signing as NonNullable<Configuration['jwks']>['keys'] },
    cookies: { keys: settings.keys.cookie },
    scopes: SCOPES,
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'] },
    responseTypes: ['code'],
    clientAuthMethods: FAPI_CLIENT_AUTH_METHODS,
    pkce: { required: () => true },
    enabledJWA: {
      authorizationSigningAlgValues: FAPI_ALGORITHMS,
      clientAuthSigningAlgValues: FAPI_ALGORITHMS,
      dPoPSigningAlgValues: FAPI_ALGORITHMS,
      idTokenSigningAlgValues: FAPI_ALGORITHMS,
      introspectionSigningAlgValues: FAPI_ALGORITHMS,
      requestObjectSigningAlgValues: FAPI_ALGORITHMS,
      userinfoSigningAlgValues: FAPI_ALGORITHMS,
    } as Configuration['enabledJWA'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      id_token_signed_response_alg: 'PS256',
      authorization_signed_response_alg: 'PS256',
      introspection_signed_response_alg: 'PS256',
    },
    extraClientMetadata: {
      properties: ['fapi_profile'],
      validator(_ctx, key, value, metadata) {
        if (key !== 'fapi_profile') return;
        if (value !== undefined && !FAPI_PROFILES.includes(value as FapiProfile)) {
          throw new errors.InvalidClientMetadata(`fapi_profile must be one of ${FAPI_PROFILES.join(', ')}`);
        }
        requireSenderConstrainedTokens(value === '1.0 Final' ? '1.0 Final' : '2.0', metadata);
      },
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
        certificateAuthorized: (ctx) => presentedCertificate(ctx.req)?.authorized ?? false,
        certificateSubjectMatches(ctx, property, expected) {
          const presented = presentedCertificate(ctx.req);
          return presented !== undefined && certificateSubjectMatches(presented.certificate, property, expected);
        },
      },
      // A TPP may introspect or revoke only its own tokens; another TPP's token reads as inactive.
      introspection: { enabled: true, allowedPolicy: ownTokensOnly },
      jwtIntrospection: { enabled: true },
      revocation: { enabled: true, allowedPolicy: ownTokensOnly },
      clientCredentials: { enabled: true },
      userinfo: { enabled: true },
    },
    ttl: {
      AccessToken: ttl.accessToken,
      AuthorizationCode: ttl.authorizationCode,
      ClientCredentials: ttl.accessToken,
      IdToken: ttl.accessToken,
      RefreshToken: ttl.refreshToken,
      Grant: ttl.refreshToken,
      Interaction: 600,
      Session: ttl.session,
    },
    rotateRefreshToken: false,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const customer = await getCustomer(db, sub);
      if (!customer) return undefined;
      return {
        accountId: customer.id,
        claims: () => ({ sub: customer.id, name: customer.displayName, preferred_username: customer.username }),
      };
    },
  };

  const provider = new Provider(settings.issuer, configuration);
  if (!settings.inMemoryStore) useAtomicReplayDetection(provider, db);
  return provider;
}

/**
 * The library's ReplayDetection.unique is find-then-save, so two concurrent replays of one DPoP proof
 * or client assertion both pass. An insert that only succeeds when no live row holds the id does not.
 */
function useAtomicReplayDetection(provider: Provider, db: Db) {
  const replays = new KyselyAdapter(db, 'ReplayDetection');
  const ReplayDetection = (provider as unknown as { ReplayDetection: { unique: (iss: string, jti: string, exp: number) => Promise<boolean> } }).ReplayDetection;
  ReplayDetection.unique = async (iss, jti, exp) => {
    const id = createHash('sha256').update(`${iss}${jti}`).digest('base64url');
    const expiresIn = Math.max(exp - Math.floor(Date.now() / 1000), 1);
    return replays.insertIfAbsent(id, { jti: id, iss, kind: 'ReplayDetection' }, expiresIn);
  };
}

import type { Middleware } from 'koa';
import type { Provider } from 'oidc-provider';
import type { ClientKind } from '../protocol/client-kind.ts';
import type { Caller, Credential, Route } from '../protocol/routes.ts';
import type { ClientCertificateReader } from './client-certificate.ts';
import { type ClientCaller, type PresentedTokenKind, verifyPresentedToken } from './presented-token.ts';

/**
 * The authentication and authorization of every route of Assent's own whose credential is an access
 * token, read from the route's row (src/protocol/routes.ts) and nothing else. Refusals are thrown, never
 * answered here: each router's one error table renders them in its protocol's shape (the UK OB envelope,
 * OAuth JSON), so the same refusal has the same status and challenge everywhere.
 */

/** What the token check reads: the provider's token models and the request's client certificate. */
export interface TokenSources {
  provider: Provider;
  presentedCertificate: ClientCertificateReader;
}

/** What a token route's handlers read: who called, as the guard proved it. */
export interface CallerState {
  caller: ClientCaller;
}

export type TokenCredential = Extract<Credential, { kind: 'client_credentials_token' | 'customer_access_token' }>;

/** A live token the route still refuses (403): the wrong kind of client, or none of the route's scopes. */
export class AccessRefused extends Error {
  override name = 'AccessRefused';
  readonly anyScopeOf: readonly string[];
  constructor(message: string, anyScopeOf: readonly string[]) {
    super(message);
    this.anyScopeOf = anyScopeOf;
  }

  /** RFC 6750's challenge for a token without the privileges the route needs. */
  get challenge(): string {
    return `Bearer error="insufficient_scope", scope="${this.anyScopeOf.join(' ')}"`;
  }
}

const TOKEN_MODEL: Record<TokenCredential['kind'], PresentedTokenKind> = {
  client_credentials_token: 'ClientCredentials',
  customer_access_token: 'AccessToken',
};

/**
 * The kind of client a caller must be. A TPP registered without any `scope` may ask for any scope, the
 * bank's included, so a scope alone never says which kind of client holds it.
 */
const CLIENT_KIND_OF_CALLER: Partial<Record<Caller, { kind: ClientKind; refusal: string }>> = {
  tpp: { kind: 'tpp', refusal: 'this API is for TPPs' },
  resource_server: { kind: 'resource_server', refusal: "the bank API is for the bank's resource servers" },
};

/**
 * A live token of the credential's kind, presented with proof of its binding (DPoP or mTLS), held by a
 * client of the route's caller kind, carrying a scope of `anyScopeOf` that the client is still
 * registered for: the registered scope stands for a TPP's roles, so a TPP that loses a role loses its
 * routes at once, whatever its live tokens carry.
 */
export function tokenGuard(sources: TokenSources, route: Route, credential: TokenCredential): Middleware<CallerState> {
  const { anyScopeOf } = credential;
  const callerKind = CLIENT_KIND_OF_CALLER[route.caller];
  const lacking =
    anyScopeOf.length === 1
      ? `the access token lacks the ${anyScopeOf[0]} scope`
      : `the access token needs one of the scopes ${anyScopeOf.join(', ')}`;
  return async function guardRoute(ctx, next) {
    const caller = await verifyPresentedToken(sources.provider, sources.presentedCertificate, ctx, TOKEN_MODEL[credential.kind]);
    if (callerKind && caller.clientKind !== callerKind.kind) throw new AccessRefused(callerKind.refusal, anyScopeOf);
    const carried = anyScopeOf.filter((scope) => caller.scopes.has(scope));
    if (carried.length === 0) throw new AccessRefused(lacking, anyScopeOf);
    if (!carried.some((scope) => caller.registeredScope.has(scope)))
      throw new AccessRefused(`this client is no longer registered for the ${carried.join(', ')} scope`, anyScopeOf);
    ctx.state.caller = caller;
    await next();
  };
}

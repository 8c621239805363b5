import type { RouterMiddleware } from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import type { ClientKind } from '../protocol/client-kind.ts';
import type { Caller, Credential, Psd2Role, Route } from '../protocol/routes.ts';
import type { ClientCertificateReader } from './client-certificate.ts';
import { type Csrf, csrfProtection } from './csrf.ts';
import { type ClientCaller, type PresentedTokenKind, verifyPresentedToken } from './presented-token.ts';

/**
 * The authentication and authorization of every route Assent serves itself, read from the route's row
 * (src/protocol/routes.ts) and nothing else: one guard per credential kind, each putting what it proved
 * on `ctx.state` for the handlers. The sources of proof (the provider's token models, the dashboard's
 * session store, the admin token) are passed in by the layer that owns them. A token's refusals are
 * thrown, never answered here: each router's one error table renders them in its protocol's shape (the
 * UK OB envelope, OAuth JSON), so the same refusal has the same status and challenge everywhere. A
 * customer's or an operator's refusal is answered as its surface always has (the sign-in page, the
 * styled error page, the admin API's JSON).
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

/** The signed-in customer, as the dashboard's session proved them. */
export interface SignedInCustomer {
  /** The session cookie's value, needed to end the session. */
  sessionId: string;
  customerId: string;
}

/** What a dashboard route's handlers read. */
export interface CustomerState {
  customer: SignedInCustomer;
}

/** How the dashboard's session is proven, and how a page answers a visitor who is not signed in. */
export interface DashboardSessionSources {
  /** The customer of the request's session cookie; undefined when there is none, or it is unknown, idle too long or past its lifetime. */
  resumeSession(ctx: Context): Promise<SignedInCustomer | undefined>;
  /** A page's answer to a signed-out visitor: the sign-in page (401). */
  signedOut(ctx: Context): void;
  csrf: Csrf;
}

/**
 * The dashboard's session cookie. A page's form is bound to the session by its CSRF token (a POST
 * without it is refused with 403 before the handler runs; a page gets the token for its forms). A JSON
 * row (the bank's app) takes no form: its POSTs are application/json, which no other site can send with
 * the SameSite=Strict cookie, and a signed-out caller is answered in JSON.
 */
export function dashboardSessionGuard(sources: DashboardSessionSources, route: Route): Middleware<CustomerState> {
  const isJson = route.operationId !== undefined;
  const checkCsrf = csrfProtection(sources.csrf, (ctx) => `dashboard:${ctx.state.customer.sessionId}`);
  return async function guardRoute(ctx, next) {
    const customer = await sources.resumeSession(ctx);
    if (!customer) {
      if (!isJson) return sources.signedOut(ctx);
      ctx.status = 401;
      ctx.body = { error: 'login_required', error_description: 'sign in to the dashboard first' };
      return;
    }
    ctx.state.customer = customer;
    await (isJson ? next() : checkCsrf(ctx, next));
  };
}

/** The interaction the browser holds, named in the URL. */
export interface InteractionState {
  interaction: { uid: string };
}

/** A request to an interaction's page: its uid in the URL. */
type InteractionRequest = Context & { params: { uid?: string } };

/** How an interaction's cookie is read (as oidc-provider reads it: signed with the provider's cookie keys). */
export interface InteractionSources {
  /** The uid of the interaction whose cookie the browser holds, if it is the one in the URL; else throws SessionNotFound. */
  interactionOfBrowser(ctx: InteractionRequest): string;
  csrf: Csrf;
}

/** A step that answers an interaction that ended (a decision already taken) instead of the error page. */
export type InteractionEndedStep = (ctx: InteractionRequest, next: Next) => Promise<unknown>;

/**
 * The browser holds the cookie of the interaction named in the URL, and a posted form the CSRF token
 * bound to that interaction (checked first, before anything is read). The interaction itself is loaded
 * by the step after (the journey), in the statement that counts the request as its activity, and
 * fails there if it has ended. `whenEnded` wraps everything after the CSRF check.
 */
export function interactionGuard(sources: InteractionSources, whenEnded?: InteractionEndedStep): RouterMiddleware<InteractionState> {
  const checkCsrf = csrfProtection(sources.csrf, (ctx) => String(ctx.params.uid));
  return async function guardRoute(ctx, next) {
    const prove = async () => {
      ctx.state.interaction = { uid: sources.interactionOfBrowser(ctx) };
      await next();
    };
    await checkCsrf(ctx, () => (whenEnded ? whenEnded(ctx, prove) : prove()).then(() => undefined));
  };
}

/** What an admin route's handlers read: the operator and how they proved themselves (for the audit). */
export interface OperatorState<Operator> {
  operator: Operator;
}

/** How an operator is proven: the admin token header or an admin client certificate; a refusal is thrown in the admin API's shape. */
export interface OperatorSources<Operator> {
  authenticateOperator(ctx: Context): Operator;
}

export function operatorGuard<Operator>(sources: OperatorSources<Operator>): Middleware<OperatorState<Operator>> {
  return async function guardRoute(ctx, next) {
    ctx.state.operator = sources.authenticateOperator(ctx);
    await next();
  };
}

/**
 * Berlin Group: how a TPP known by its eIDAS certificate is proven, passed in by the layer that owns the
 * eIDAS trust (tpp/eidas-middleware.ts): `identify(role)` is the step that checks the QWAC (and the request's
 * signature where the bank requires one), refuses a TPP whose certificate lacks the role before anything is
 * written (its row on first contact included), and puts the TPP on ctx.state. Refusals are thrown for the
 * Berlin Group error table.
 */
export interface EidasSources<State> {
  identify(role: Psd2Role): Middleware<State>;
}

export function eidasGuard<State>(sources: EidasSources<State>, role: Psd2Role): Middleware<State> {
  const identify = sources.identify(role);
  return function guardRoute(ctx, next) {
    return identify(ctx, next);
  };
}

/** A route anyone may call: nothing to prove, but mounted through the guard like every other. */
export function openGuard(): Middleware {
  return function guardRoute(_ctx, next) {
    return next();
  };
}

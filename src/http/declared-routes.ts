import type { Router, RouterMiddleware } from '@koa/router';
import { credentialOf, type Credential, type Route, ROUTES } from '../protocol/routes.ts';
import {
  type CallerState,
  type CustomerState,
  dashboardSessionGuard,
  type DashboardSessionSources,
  eidasGuard,
  type EidasSources,
  type InteractionEndedStep,
  interactionGuard,
  type InteractionSources,
  type InteractionState,
  openGuard,
  operatorGuard,
  type OperatorSources,
  type OperatorState,
  type TokenCredential,
  type TokenSources,
  tokenGuard,
} from './route-guard.ts';

/**
 * Assent's own routes are mounted only through the route table (src/protocol/routes.ts; the admin
 * listener's rows come from its list of operations): a router names a row (its operationId, or
 * `METHOD /path` for a row without one) and the row gives the method, the path and the credential the
 * guard checks before the handlers run. Each credential kind has its mount, and each mount its guard
 * (src/http/route-guard.ts), which puts what it proved on `ctx.state`: `open` (none), `client` (an
 * access token: ctx.state.caller), `customer` (the dashboard's session: ctx.state.customer),
 * `interaction` (a live interaction: ctx.state.interaction), `operator` (the admin credentials:
 * ctx.state.operator), `eidas` (a Berlin Group TPP's eIDAS certificate with the row's PSD2 role: what
 * the identifying step proved, ctx.state.eidasTpp and ctx.state.eidasClientId). A route cannot be served without its row, and the row that mounts it is the one
 * that rate-limits it, labels its metrics and documents it in OpenAPI. Every mistake (no such row, no
 * declared credential, a credential the mount does not check, a router not given the proof the
 * credential needs) throws while the routers are built, so a server with one never starts.
 */

/** A row's key: its operationId, or `METHOD /path`. */
const keysOf = (route: Route) => [route.operationId, `${route.method} ${route.path}`];

/**
 * What the guards check credentials with; a router passes what its rows need. The provider's token
 * models and the request's client certificate (TokenSources) are passed flat, as the API routers'
 * dependencies carry them.
 */
export interface CredentialSources<Operator = never, Eidas = never> extends Partial<TokenSources> {
  dashboardSession?: DashboardSessionSources;
  interaction?: InteractionSources;
  operator?: OperatorSources<Operator>;
  eidas?: EidasSources<Eidas>;
}

/** An interaction mount's step that answers an interaction that has ended (its decision already taken). */
export interface InteractionMountOptions {
  whenEnded: InteractionEndedStep;
}

export interface DeclaredRoutes<Operator = never, Eidas = never> {
  /** Mounts the row of a route anyone may call (credential `none`). */
  open(key: string, ...handlers: RouterMiddleware[]): void;
  /** Mounts the row of a route called with an access token, behind the guard; handlers read ctx.state.caller. */
  client(key: string, ...handlers: RouterMiddleware<CallerState>[]): void;
  /** Mounts the row of a route of the signed-in dashboard (`dashboard_session`); handlers read ctx.state.customer. */
  customer(key: string, ...handlers: RouterMiddleware<CustomerState>[]): void;
  /** Mounts the row of a sign-in or consent page (`interaction`); handlers read ctx.state.interaction. */
  interaction(key: string, ...handlers: RouterMiddleware<InteractionState>[]): void;
  interaction(key: string, options: InteractionMountOptions, ...handlers: RouterMiddleware<InteractionState>[]): void;
  /** Mounts the row of an admin API route (`admin_credentials`); handlers read ctx.state.operator. */
  operator(key: string, ...handlers: RouterMiddleware<OperatorState<Operator>>[]): void;
  /**
   * Mounts the row of a Berlin Group route (`eidas_certificate`): the TPP identified by its eIDAS
   * certificate, then refused unless the certificate gives it the row's PSD2 role; handlers read the TPP
   * the identifying step put on ctx.state.
   */
  eidas(key: string, ...handlers: RouterMiddleware<Eidas>[]): void;
}

/** What the token routers' route helpers take (a row mounted behind the token guard). */
export type GuardedRoutes = Pick<DeclaredRoutes, 'open' | 'client'>;

/** The row each mounted guard stands for, so a test can compare what is mounted with the table. */
const ROW_OF_GUARD = new WeakMap<object, Route>();

/** The row a router's layer was mounted from, read off its guard (undefined: not mounted through the table). */
export function declaredRowOf(middleware: unknown): Route | undefined {
  return typeof middleware === 'function' ? ROW_OF_GUARD.get(middleware) : undefined;
}

function rowOf(table: readonly Route[], key: string): { route: Route; credential: Credential } {
  const route = table.find((candidate) => keysOf(candidate).includes(key));
  if (!route) throw new Error(`${key} is not in the route table (src/protocol/routes.ts): declare it there to mount it`);
  if (route.servedBy === 'engine') throw new Error(`${key} is served by the engine, not by Assent's routers`);
  const credential = credentialOf(route);
  if (!credential)
    throw new Error(
      `${route.method} ${route.path} declares no credential: a ${route.caller} route cannot be mounted until its row says how its caller proves itself`,
    );
  return { route, credential };
}

const isToken = (credential: Credential): credential is TokenCredential =>
  credential.kind === 'client_credentials_token' || credential.kind === 'customer_access_token';

/** Which mount checks which credential kinds. */
const MOUNT_OF_KIND: Partial<Record<Credential['kind'], keyof DeclaredRoutes>> = {
  none: 'open',
  client_credentials_token: 'client',
  customer_access_token: 'client',
  dashboard_session: 'customer',
  interaction: 'interaction',
  admin_credentials: 'operator',
  eidas_certificate: 'eidas',
};

function given<T>(source: T | undefined, key: string, what: string): T {
  if (!source) throw new Error(`${key} needs ${what} to check its credential: pass it to declaredRoutes`);
  return source;
}

/** `table` is ROUTES but for the admin listener (its inventory) and tests of how a mount takes a row. */
export function declaredRoutes<Operator = never, Eidas = never>(
  router: Router,
  sources: CredentialSources<Operator, Eidas> = {},
  table: readonly Route[] = ROUTES,
): DeclaredRoutes<Operator, Eidas> {
  /** The row of `key`, if `mount` is the one that checks its credential. */
  const take = (mount: keyof DeclaredRoutes, key: string) => {
    const row = rowOf(table, key);
    const expected = MOUNT_OF_KIND[row.credential.kind];
    if (expected !== mount)
      throw new Error(
        mount === 'open'
          ? `${key} is called with ${row.credential.kind}: mount it guarded`
          : `${key} is called with ${row.credential.kind}, which the route guard does not check`,
      );
    return row;
  };
  const mount = <State>(route: Route, guard: RouterMiddleware<State>, handlers: RouterMiddleware<State>[]) => {
    ROW_OF_GUARD.set(guard, route);
    // The guard has put what it proved on ctx.state by the time the handlers run.
    router.register(route.path, [route.method], [guard, ...handlers] as unknown as RouterMiddleware[]);
  };
  const tokens = (key: string): TokenSources => {
    const { provider, presentedCertificate } = sources;
    if (!provider || !presentedCertificate)
      throw new Error(`${key} needs the provider's token models and the client certificate to check its credential`);
    return { provider, presentedCertificate };
  };

  return {
    open(key, ...handlers) {
      const { route } = take('open', key);
      mount(route, openGuard(), handlers);
    },
    client(key, ...handlers) {
      const { route, credential } = take('client', key);
      if (!isToken(credential)) throw new Error(`${key} is called with ${credential.kind}, which the route guard does not check`);
      mount(route, tokenGuard(tokens(key), route, credential), handlers);
    },
    customer(key, ...handlers) {
      const { route } = take('customer', key);
      mount(route, dashboardSessionGuard(given(sources.dashboardSession, key, "the dashboard's sessions"), route), handlers);
    },
    interaction(
      key: string,
      ...rest: [InteractionMountOptions | RouterMiddleware<InteractionState>, ...RouterMiddleware<InteractionState>[]]
    ) {
      const { route } = take('interaction', key);
      const [first, ...others] = rest;
      const options = typeof first === 'function' ? undefined : first;
      const handlers = typeof first === 'function' ? [first, ...others] : others;
      mount(route, interactionGuard(given(sources.interaction, key, "the provider's interaction cookie"), options?.whenEnded), handlers);
    },
    operator(key, ...handlers) {
      const { route } = take('operator', key);
      mount(route, operatorGuard(given(sources.operator, key, "the admin API's credentials")), handlers);
    },
    eidas(key, ...handlers) {
      const { route, credential } = take('eidas', key);
      if (credential.kind !== 'eidas_certificate')
        throw new Error(`${key} is called with ${credential.kind}, which the eIDAS guard does not check`);
      mount(route, eidasGuard(given(sources.eidas, key, 'the eIDAS identification of TPPs'), credential.role), handlers);
    },
  };
}

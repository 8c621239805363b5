import type { Router, RouterMiddleware } from '@koa/router';
import { credentialOf, type Credential, type Route, ROUTES } from '../protocol/routes.ts';
import { type CallerState, type TokenCredential, type TokenSources, tokenGuard } from './route-guard.ts';

/**
 * Assent's own routes are mounted only through the route table (src/protocol/routes.ts): a router names
 * a row (its operationId, or `METHOD /path` for a row without one) and the row gives the method, the
 * path and the credential the guard checks before the handlers run. A route cannot be served without
 * its row, and the row that mounts it is the one that rate-limits it, labels its metrics and documents
 * it in OpenAPI. Every mistake (no such row, no declared credential, a credential the mount does not
 * check) throws while the routers are built, so a server with one never starts.
 */

/** A row's key: its operationId, or `METHOD /path`. */
const keysOf = (route: Route) => [route.operationId, `${route.method} ${route.path}`];

export interface OpenRoutes {
  /** Mounts the row of a route anyone may call (credential `none`). */
  open(key: string, ...handlers: RouterMiddleware[]): void;
}

export interface GuardedRoutes extends OpenRoutes {
  /** Mounts the row of a route called with an access token, behind the guard; handlers read ctx.state.caller. */
  client(key: string, ...handlers: RouterMiddleware<CallerState>[]): void;
}

function rowOf(table: readonly Route[], key: string): { route: Route; credential: Credential } {
  const route = table.find((candidate) => keysOf(candidate).includes(key));
  if (!route) throw new Error(`${key} is not in the route table (src/protocol/routes.ts): declare it there to mount it`);
  if (route.servedBy !== 'assent') throw new Error(`${key} is served by the ${route.servedBy}, not by Assent's routers`);
  const credential = credentialOf(route);
  if (!credential)
    throw new Error(
      `${route.method} ${route.path} declares no credential: a ${route.caller} route cannot be mounted until its row says how its caller proves itself`,
    );
  return { route, credential };
}

const isToken = (credential: Credential): credential is TokenCredential =>
  credential.kind === 'client_credentials_token' || credential.kind === 'customer_access_token';

/** `table` is ROUTES but for tests of how a mount takes a row. */
export function declaredRoutes(router: Router, tokens: TokenSources, table?: readonly Route[]): GuardedRoutes;
export function declaredRoutes(router: Router, tokens?: undefined, table?: readonly Route[]): OpenRoutes;
export function declaredRoutes(router: Router, tokens?: TokenSources, table: readonly Route[] = ROUTES): OpenRoutes | GuardedRoutes {
  const open: OpenRoutes['open'] = (key, ...handlers) => {
    const { route, credential } = rowOf(table, key);
    if (credential.kind !== 'none') throw new Error(`${key} is called with ${credential.kind}: mount it guarded`);
    router.register(route.path, [route.method], handlers);
  };
  if (!tokens) return { open };
  const client: GuardedRoutes['client'] = (key, ...handlers) => {
    const { route, credential } = rowOf(table, key);
    if (!isToken(credential)) throw new Error(`${key} is called with ${credential.kind}, which the route guard does not check`);
    // The guard has set ctx.state.caller by the time the handlers run.
    router.register(route.path, [route.method], [tokenGuard(tokens, route, credential), ...handlers]);
  };
  return { open, client };
}

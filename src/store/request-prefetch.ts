import { AsyncLocalStorage } from 'node:async_hooks';
import { Provider } from 'oidc-provider';
import type { FoundGrant, FoundRow } from './batched-find.ts';

/**
 * What was read together with a token (store/batched-find.ts: its grant with the consents it holds,
 * the session a session-bound token or an interaction lives in, the customer it names and an
 * interaction's client standing), kept for the rest of that one provider request
 * only: the request's Grant.find, Session.findByUid and findAccount take it instead of asking again, and the
 * consent check at introspection reads what came with the grant. Keyed by the request's context
 * (oidc-provider's `Provider.ctx`), so nothing read for one request ever answers another: a request
 * that starts after a revocation committed reads the database itself. Each row is served once, and
 * dropped when the request changes it.
 */
interface Kept {
  payload: Record<string, unknown> | undefined;
  companion?: unknown;
}

const perRequest = new WeakMap<object, Map<string, Kept>>();

/** The scope of a read made outside the provider's own requests (the pages' `interactionDetails`). */
const pageScope = new AsyncLocalStorage<object>();

/**
 * Runs `read` as a request of its own for what is kept: the interaction `provider.interactionDetails`
 * reads comes with its session, which the call's session check then takes instead of asking again.
 */
export function asOneRequest<T>(read: () => Promise<T>): Promise<T> {
  return pageScope.run({}, read);
}

const keyOf = (model: 'Grant' | 'Session' | 'Account' | 'Client' | `Found ${string}`, key: string) => `${model}\u0000${key}`;

function keptOfRequest(create: boolean): Map<string, Kept> | undefined {
  const ctx = Provider.ctx ?? pageScope.getStore();
  if (!ctx) return undefined;
  let kept = perRequest.get(ctx);
  if (!kept && create) perRequest.set(ctx, (kept = new Map()));
  return kept;
}

export function keepGrantOfRequest(grantId: string, grant: FoundGrant): void {
  keptOfRequest(true)?.set(keyOf('Grant', grantId), { payload: grant.payload, companion: grant.companion });
}

export function keepSessionOfRequest(uid: string, payload: Record<string, unknown>): void {
  keptOfRequest(true)?.set(keyOf('Session', uid), { payload });
}

/** The kept payload, once: a second find in the same request reads the database. */
export function takeOfRequest(model: 'Grant' | 'Session', key: string): Record<string, unknown> | undefined {
  const kept = keptOfRequest(false)?.get(keyOf(model, key));
  const payload = kept?.payload;
  if (kept) kept.payload = undefined;
  return payload;
}

/** What was read with the grant (the consents it holds), in this request; undefined when nothing was. */
export function grantCompanionOfRequest(grantId: string): unknown {
  return keptOfRequest(false)?.get(keyOf('Grant', grantId))?.companion;
}

/** What was read for the account `accountId` with a row of this request (the customer; null when nobody). */
export function keepAccountOfRequest(accountId: string, companion: unknown): void {
  keptOfRequest(true)?.set(keyOf('Account', accountId), { payload: undefined, companion });
}

/**
 * What was read for the account with a row of this request, once (`{ companion }`, null inside when the
 * account names nobody); undefined when nothing was, and the caller reads it itself.
 */
export function takeAccountOfRequest(accountId: string): { companion: unknown } | undefined {
  return takeCompanion('Account', accountId);
}

/** What was read for the client `clientId` with an interaction of this request (its standing). */
export function keepClientOfRequest(clientId: string, companion: unknown): void {
  keptOfRequest(true)?.set(keyOf('Client', clientId), { payload: undefined, companion });
}

/** What was read for the client with a row of this request, once; undefined when nothing was, and the caller reads it itself. */
export function takeClientOfRequest(clientId: string): { companion: unknown } | undefined {
  return takeCompanion('Client', clientId);
}

function takeCompanion(model: 'Account' | 'Client' | `Found ${string}`, key: string): { companion: unknown } | undefined {
  const kept = keptOfRequest(false);
  const found = kept?.get(keyOf(model, key));
  if (!found) return undefined;
  kept!.delete(keyOf(model, key));
  return { companion: found.companion };
}

/**
 * A row of model `model` as the adapter's find reads it (undefined: there is none), read by a page's
 * activity statement in this request (`BatchedFind.within`); the find the engine makes next takes it.
 */
export function keepFoundOfRequest(model: string, id: string, row: FoundRow | undefined): void {
  keptOfRequest(true)?.set(keyOf(`Found ${model}`, id), { payload: undefined, companion: { row } });
}

/** The row kept by keepFoundOfRequest, once (`{ row }`); undefined when none was kept, and the find reads it. */
export function takeFoundOfRequest(model: string, id: string): { row: FoundRow | undefined } | undefined {
  return takeCompanion(`Found ${model}`, id)?.companion as { row: FoundRow | undefined } | undefined;
}

/** The row changed or went in this request: nothing kept for it answers again. */
export function forgetOfRequest(model: 'Grant' | 'Session', key: string): void {
  keptOfRequest(false)?.delete(keyOf(model, key));
}

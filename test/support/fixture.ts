import { after, before } from 'node:test';
import { type TestAssent, type TestAssentOptions, startTestAssent } from './assent.ts';
import type { MovableClock } from './clock.ts';
import { ConsentApiClient } from './consent-api.ts';
import { migratedTestDatabase } from './migrated-db.ts';
import { TestResourceServer } from './resource-server.ts';
import { createTestTpp, type TestTpp } from './tpp.ts';
import type { Db } from '../../src/db/connect.ts';

/**
 * What a test file sets up once, the way node-oidc-provider's tests `bootstrap` theirs: `make` runs in a
 * `before` hook and `end` in an `after` hook of the suite this is called in (the file, or the `describe` around
 * the call), and the handle returned reads through to what `make` made. Hooks run in the order they are
 * declared, so a fixture may use the ones declared above it:
 *
 *   const assent = useAssent();
 *   const tpp = useTpp(assent);
 *   const api = useConsentApi(assent, tpp);
 *
 * The handle is the value's stand-in (a Proxy): its properties, its methods (called on the value itself, so
 * private fields work) and its prototype are the value's. Reading it before its `before` hook ran throws.
 */
export function fixture<T extends object>(make: () => Promise<T>, end?: (value: T) => unknown): T {
  let value: T | undefined;
  before(async () => {
    value = await make();
  });
  if (end) {
    after(async () => {
      if (value) await end(value);
    });
  }
  const made = (): T => {
    if (!value) throw new Error('a fixture is read before its before hook made it: read it inside a test or a later hook');
    return value;
  };
  return new Proxy({} as T, {
    get(_, property) {
      const target = made();
      const read: unknown = Reflect.get(target, property, target);
      return typeof read === 'function' ? read.bind(target) : read;
    },
    set: (_, property, next) => Reflect.set(made(), property, next),
    has: (_, property) => Reflect.has(made(), property),
    ownKeys: () => Reflect.ownKeys(made()),
    getOwnPropertyDescriptor(_, property) {
      const descriptor = Reflect.getOwnPropertyDescriptor(made(), property);
      // The stand-in's own target is an empty object: a property it lacks must be reported configurable.
      return descriptor && { ...descriptor, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(made()),
  });
}

/** An Assent of its own for this file or suite (startTestAssent), stopped after it. */
export function useAssent(
  env: Record<string, string>,
  options: TestAssentOptions & { movableClock: true },
): TestAssent & { clock: MovableClock };
export function useAssent(env?: Record<string, string>, options?: TestAssentOptions): TestAssent;
export function useAssent(env: Record<string, string> = {}, options: TestAssentOptions = {}): TestAssent {
  return fixture(
    () => startTestAssent(env, options),
    (assent) => assent.stop(),
  );
}

/** A TPP registered at `assent` (createTestTpp). */
export function useTpp(assent: TestAssent, options?: Parameters<typeof createTestTpp>[1]): TestTpp {
  return fixture(() => createTestTpp(assent, options));
}

/** `tpp` calling the consent API with its client_credentials token. */
export function useConsentApi(assent: TestAssent, tpp: TestTpp): ConsentApiClient {
  return fixture(() => ConsentApiClient.create(assent, tpp));
}

/** A resource server (the bank's API) registered at `assent`. */
export function useResourceServer(assent: TestAssent, name?: string): TestResourceServer {
  return fixture(() => TestResourceServer.create(assent, name));
}

/**
 * A migrated database of its own for tests below the HTTP layer (migratedTestDatabase), dropped after the
 * file or suite. The handle stands for the Kysely instance itself.
 */
export function useMigratedDb(): Db {
  let drop: (() => Promise<void>) | undefined;
  return fixture(
    async () => {
      const database = await migratedTestDatabase();
      drop = database.drop;
      return database.db;
    },
    () => drop?.(),
  );
}

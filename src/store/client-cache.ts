import { Client } from 'pg';
import type { Logger } from 'pino';
import type { Db } from '../db/connect.ts';

/** The channel the database notifies on every change to a client or its TPP record (see the migration 2026_11_29_1313). */
export const CLIENT_CHANGED_CHANNEL = 'assent_client_changed';

/**
 * Every token, introspection and PAR request loads its client's metadata. It changes rarely (RFC 7592
 * updates), so each process keeps it in memory and drops a client's entry when the database says it
 * changed. Whether the client's TPP may act is not cached (the adapter asks on every load), and
 * neither are tokens: a suspension deletes them in its own transaction and refuses the TPP's next call
 * on every instance from its commit, whatever this cache holds.
 */
export interface ClientCache {
  /** The client's cached value, or what `load` returns (kept until the client changes). */
  get<T>(clientId: string, load: () => Promise<T>): Promise<T>;
  /** Drops one client now (this process changed it). */
  forget(clientId: string): void;
  close(): Promise<void>;
}

/** No cache at all (embedded PGlite: one process and no notifications to listen to). */
export const noClientCache: ClientCache = {
  get: (_clientId, load) => load(),
  forget() {},
  async close() {},
};

export interface ClientCacheOptions {
  /** An entry older than this is loaded again even without a notification (a safety net, not the mechanism). */
  maxAgeMs?: number;
  /** Beyond this many clients the cache starts over rather than grow without bound. */
  maxEntries?: number;
  /** Pause before listening again after the listening connection was lost. */
  reconnectMs?: number;
}

interface Entry {
  value: Promise<unknown>;
  loadedAt: number;
}

/**
 * The entries both invalidation sources share: served only while `serving`, dropped wholesale when the
 * source may have missed a change (and whenever serving stops).
 */
function cacheEntries(options: ClientCacheOptions) {
  const maxAgeMs = options.maxAgeMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry>();
  let serving = false;
  return {
    serve(on: boolean) {
      serving = on;
      entries.clear();
    },
    dropAll: () => entries.clear(),
    drop: (clientId: string) => entries.delete(clientId),
    get<T>(clientId: string, load: () => Promise<T>): Promise<T> {
      if (!serving) return load();
      const cached = entries.get(clientId);
      if (cached && Date.now() - cached.loadedAt < maxAgeMs) return cached.value as Promise<T>;
      if (entries.size >= maxEntries) entries.clear();
      const value = load();
      const entry = { value, loadedAt: Date.now() };
      entries.set(clientId, entry);
      // Failures and unknown ids are not kept: the next read asks the database again.
      const drop = () => {
        if (entries.get(clientId) === entry) entries.delete(clientId);
      };
      value.then((found) => found === undefined && drop(), drop);
      return value;
    },
  };
}

/**
 * A cache that serves only while its own connection LISTENs on the change channel: until LISTEN is
 * in place, and from the moment that connection fails until it is back, every read goes to the
 * database, and everything cached before is dropped (notifications may have been missed meanwhile).
 */
export function listeningClientCache(databaseUrl: string, logger: Logger, options: ClientCacheOptions = {}): ClientCache {
  const reconnectMs = options.reconnectMs ?? 1000;
  const entries = cacheEntries(options);
  let current: Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  function lost(connection: Client, error?: unknown) {
    if (connection !== current) return;
    current = undefined;
    entries.serve(false);
    connection.end().catch(() => undefined);
    if (closed) return;
    logger.warn({ err: error }, 'client change notifications lost; clients are read from the database until they are back');
    retry = setTimeout(() => void connect(), reconnectMs);
    retry.unref();
  }

  async function connect() {
    const connection = new Client({ connectionString: databaseUrl, keepAlive: true });
    current = connection;
    connection.on('notification', (message) => {
      if (message.payload) entries.drop(message.payload);
    });
    connection.on('error', (error) => lost(connection, error));
    connection.on('end', () => lost(connection));
    try {
      await connection.connect();
      await connection.query(`listen ${CLIENT_CHANGED_CHANNEL}`);
    } catch (error) {
      lost(connection, error);
      return;
    }
    if (connection !== current) return;
    entries.serve(true);
    logger.debug('listening for client changes');
  }

  void connect();

  return {
    get: entries.get,
    forget: entries.drop,
    async close() {
      closed = true;
      clearTimeout(retry);
      const connection = current;
      current = undefined;
      entries.serve(false);
      await connection?.end().catch(() => undefined);
    },
  };
}

/**
 * For a transaction pooler (DATABASE_POOLER=transaction), where no connection can LISTEN: every
 * `pollMs` one statement reads the count of committed client changes (client_change_count, raised by the
 * same triggers that notify), and a count that moved drops every entry, since it does not say which
 * client changed (they change rarely). A change reaches this process within `pollMs` instead of at
 * once. A poll that fails stops serving from memory until one succeeds.
 */
export function pollingClientCache(db: Db, logger: Logger, options: ClientCacheOptions & { pollMs?: number } = {}): ClientCache {
  const pollMs = options.pollMs ?? 1000;
  const entries = cacheEntries(options);
  let seen: string | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  async function poll() {
    try {
      const { changes } = await db.selectFrom('client_change_count').select('changes').executeTakeFirstOrThrow();
      if (seen === undefined) entries.serve(true);
      else if (changes !== seen) entries.dropAll();
      seen = changes;
    } catch (error) {
      if (seen !== undefined)
        logger.warn({ err: error }, 'client change count unreadable; clients are read from the database until it is back');
      seen = undefined;
      entries.serve(false);
    }
    if (closed) return;
    timer = setTimeout(() => void poll(), pollMs);
    timer.unref();
  }

  void poll();

  return {
    get: entries.get,
    forget: entries.drop,
    async close() {
      closed = true;
      clearTimeout(timer);
      entries.serve(false);
    },
  };
}

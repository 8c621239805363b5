/** Above this many keys a batch goes out and the next loads start another. */
const MAX_BATCH = 256;

/**
 * Loads by key, batched (the adapter's finds, client standings, blocked credentials): every load asked
 * while the event loop handles one round of I/O goes to the database as one `loadMany` call, sent once that round is
 * over, each key once. Under load many requests share one round trip; each load still reads the
 * database after its own request began, so what committed before a request started is seen by it.
 * A key `loadMany` does not answer gets `missing`; a failed call fails every load in it.
 */
export function createTurnBatch<V>(loadMany: (keys: string[]) => Promise<Map<string, V>>, missing: V): (key: string) => Promise<V> {
  type Waiter = { resolve: (value: V) => void; reject: (error: unknown) => void };
  let pending = new Map<string, Waiter[]>();

  async function run(batch: Map<string, Waiter[]>) {
    try {
      const found = await loadMany([...batch.keys()]);
      for (const [key, waiters] of batch) for (const waiter of waiters) waiter.resolve(found.has(key) ? found.get(key)! : missing);
    } catch (error) {
      for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
    }
  }

  function dispatch() {
    const batch = pending;
    pending = new Map();
    if (batch.size > 0) void run(batch);
  }

  return function load(key: string): Promise<V> {
    if (pending.size === 0) setImmediate(dispatch);
    const waiters = pending.get(key) ?? [];
    pending.set(key, waiters);
    const result = new Promise<V>((resolve, reject) => waiters.push({ resolve, reject }));
    if (pending.size >= MAX_BATCH) dispatch();
    return result;
  };
}

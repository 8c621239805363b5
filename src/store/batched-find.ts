import type { RawBuilder } from 'kysely';
import type { Db } from '../db/connect.ts';

export interface FoundRow {
  payload: Record<string, unknown>;
  consumed_at: Date | null;
}

type Waiter = { resolve: (row: FoundRow | undefined) => void; reject: (error: unknown) => void };

/**
 * oidc-provider looks one token value up as AccessToken, ClientCredentials and RefreshToken at once
 * (introspection, revocation, userinfo): three queries, three pool checkouts and round trips for one id.
 * Profiling showed those round trips as the largest cost of introspection, so finds of the same id issued
 * in the same tick share one query. `live` is the same expiry condition the single-model find uses.
 */
export function createBatchedFind(db: Db, live: RawBuilder<boolean>) {
  const pending = new Map<string, Map<string, Waiter[]>>();

  async function run(id: string, byModel: Map<string, Waiter[]>) {
    try {
      const rows = await db
        .selectFrom('oidc_model')
        .select(['model', 'payload', 'consumed_at'])
        .where('id', '=', id)
        .where('model', 'in', [...byModel.keys()])
        .where(live)
        .execute();
      const found = new Map(rows.map((row) => [row.model, row]));
      for (const [model, waiters] of byModel) for (const waiter of waiters) waiter.resolve(found.get(model));
    } catch (error) {
      for (const waiters of byModel.values()) for (const waiter of waiters) waiter.reject(error);
    }
  }

  return function find(model: string, id: string): Promise<FoundRow | undefined> {
    let byModel = pending.get(id);
    if (!byModel) {
      const batch = new Map<string, Waiter[]>();
      byModel = batch;
      pending.set(id, batch);
      queueMicrotask(() => {
        pending.delete(id);
        void run(id, batch);
      });
    }
    const waiters = byModel.get(model) ?? [];
    byModel.set(model, waiters);
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  };
}

import type { Db } from '../db/connect.ts';

/** The columns a TPP sets on its subscription. */
export interface SubscriptionColumns {
  callback_url: string | null;
  version: string;
  /** JSON text of the event type URNs; null: every type. */
  event_types: string | null;
}

export function findSubscriptionOfClient(db: Db, clientId: string) {
  return db.selectFrom('event_subscription').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

/** Inserts the TPP's subscription unless it has one (the unique client_id decides races): no row then. */
export function insertSubscriptionUnlessExists(db: Db, clientId: string, columns: SubscriptionColumns) {
  return db
    .insertInto('event_subscription')
    .values({ client_id: clientId, ...columns })
    .onConflict((oc) => oc.column('client_id').doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** Updates subscription `id` if it is the TPP's own: no row otherwise. */
export function updateSubscriptionOfClient(db: Db, clientId: string, id: string, columns: SubscriptionColumns) {
  return db
    .updateTable('event_subscription')
    .set({ ...columns, updated_at: new Date() })
    .where('id', '=', id)
    .where('client_id', '=', clientId)
    .returningAll()
    .executeTakeFirst();
}

/** Deletes subscription `id` if it is the TPP's own. */
export function deleteSubscriptionOfClient(db: Db, clientId: string, id: string) {
  return db.deleteFrom('event_subscription').where('id', '=', id).where('client_id', '=', clientId).executeTakeFirst();
}

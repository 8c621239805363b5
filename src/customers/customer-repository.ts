import type { Db } from '../db/connect.ts';
import type { NewCustomer } from '../db/schema.ts';

export function findCustomerByUsername(db: Db, username: string) {
  return db.selectFrom('customer').selectAll().where('username', '=', username).executeTakeFirst();
}

export function findCustomerById(db: Db, id: string) {
  return db.selectFrom('customer').selectAll().where('id', '=', id).executeTakeFirst();
}

export function insertCustomer(db: Db, customer: NewCustomer) {
  return db.insertInto('customer').values(customer).returningAll().executeTakeFirstOrThrow();
}

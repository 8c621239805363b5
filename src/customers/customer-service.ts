import type { Db } from '../db/connect.ts';
import { findCustomerById, findCustomerByUsername, insertCustomer } from './customer-repository.ts';
import { decoyHash, hashPassword, verifyPassword } from './passwords.ts';

export interface Customer {
  id: string;
  username: string;
  displayName: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toCustomer(row: { id: string; username: string; display_name: string }): Customer {
  return { id: row.id, username: row.username, displayName: row.display_name };
}

/** The customer for these credentials, or undefined. Unknown usernames cost the same argon2 run. */
export async function authenticateCustomer(db: Db, username: string, password: string): Promise<Customer | undefined> {
  const row = await findCustomerByUsername(db, username);
  const valid = await verifyPassword(row?.password_hash ?? (await decoyHash()), password);
  return row && valid ? toCustomer(row) : undefined;
}

export async function getCustomer(db: Db, id: string): Promise<Customer | undefined> {
  if (!UUID.test(id)) return undefined;
  const row = await findCustomerById(db, id);
  return row && toCustomer(row);
}

export async function createCustomer(db: Db, input: { username: string; displayName: string; password: string }): Promise<Customer> {
  const row = await insertCustomer(db, {
    username: input.username,
    display_name: input.displayName,
    password_hash: await hashPassword(input.password),
  });
  return toCustomer(row);
}

import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/db/connect.ts';
import { createCustomer } from '../../src/customers/customer-service.ts';

export async function createTestCustomer(db: Db) {
  const username = `customer-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('base64url');
  const customer = await createCustomer(db, { username, displayName: `Customer ${username}`, password });
  return { ...customer, password };
}

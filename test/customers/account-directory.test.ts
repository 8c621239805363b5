import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openAccount, postgresAccountDirectory } from '../../src/customers/account-directory.ts';
import { createTestCustomer } from '../support/customers.ts';
import { useMigratedDb } from '../support/fixture.ts';

describe('Postgres account directory', () => {
  const db = useMigratedDb();

  test("lists only the customer's accounts and never confirms another customer's account", async () => {
    const alice = await createTestCustomer(db);
    const bob = await createTestCustomer(db);
    const base = {
      schemeName: 'UK.OBIE.SortCodeAccountNumber' as const,
      currency: 'GBP',
      accountType: 'Personal' as const,
      accountSubtype: 'CurrentAccount' as const,
    };
    const current = await openAccount(db, { ...base, customerId: alice.id, identification: '11111111111111', name: 'Alice current' });
    const saver = await openAccount(db, {
      ...base,
      customerId: alice.id,
      identification: '11111122222222',
      name: 'Alice saver',
      accountSubtype: 'Savings',
    });
    const bobs = await openAccount(db, { ...base, customerId: bob.id, identification: '33333333333333', name: 'Bob current' });

    const directory = postgresAccountDirectory(db);
    assert.deepEqual(
      (await directory.listForCustomer(alice.id)).map((account) => account.id).toSorted(),
      [current.id, saver.id].toSorted(),
    );
    assert.deepEqual(
      (await directory.findOwned(alice.id, [current.id, bobs.id, 'not-a-uuid'])).map((account) => account.id),
      [current.id],
    );
    assert.deepEqual(await directory.findOwned(alice.id, []), []);
    assert.deepEqual(await directory.listForCustomer('not-a-uuid'), []);
  });
});

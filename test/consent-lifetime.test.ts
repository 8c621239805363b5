import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { type TestAssent, startTestAssent } from './support/assent.ts';
import { days, type MovableClock } from './support/clock.ts';
import { createTestCustomer } from './support/customers.ts';

describe('the life of consents, with the clock moved', () => {
  let assent: TestAssent & { clock: MovableClock };
  before(async () => { assent = await startTestAssent({}, { movableClock: true }); });
  after(async () => { await assent?.stop(); });

  const databaseNow = async () => (await sql<{ now: Date; clock: Date }>`select now() as now, clock_timestamp() as clock`.execute(assent.db)).rows[0]!;

  test('the clock moves the engine\'s Date and the database\'s now() together, column defaults included', async () => {
    const real = Date.now();
    const unmoved = await databaseNow();
    assert.ok(Math.abs(unmoved.now.getTime() - real) < 5_000, 'unmoved, the database and the process agree');

    await assent.clock.advance(days(91));
    const moved = Date.now() - real;
    assert.ok(moved >= days(91) && moved < days(91) + 5_000, `Date.now() moved ${moved} ms`);
    assert.ok(Math.abs(new Date().getTime() - (real + days(91))) < 5_000, 'new Date() moved with it');
    assert.equal(new Date(0).getTime(), 0, 'a date with arguments is what it says');
    assert.ok(new Date() instanceof Date);
    const database = await databaseNow();
    for (const instant of [database.now, database.clock]) assert.ok(Math.abs(instant.getTime() - Date.now()) < 5_000, `the database reads ${instant.toISOString()}`);

    const customer = await createTestCustomer(assent.db);
    const row = await assent.db.selectFrom('customer').select('created_at').where('id', '=', customer.id).executeTakeFirstOrThrow();
    assert.ok(Math.abs(row.created_at.getTime() - Date.now()) < 5_000, 'a `default now()` of the migrations is the moved clock');
  });
});

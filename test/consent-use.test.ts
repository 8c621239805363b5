import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { lastUses, recordConsentUse } from '../src/dashboard/consent-use.ts';
import type { Db } from '../src/db/connect.ts';
import { migratedTestDatabase } from './support/migrated-db.ts';

describe('last use of a consent, recorded coarsely', () => {
  let db: Db;
  let drop: () => Promise<void>;
  before(async () => ({ db, drop } = await migratedTestDatabase()));
  after(async () => { await drop?.(); });

  test('the first use is written; uses within the next minute are not', async () => {
    const consentId = randomUUID();
    const start = Date.now();
    await recordConsentUse(db, consentId, start);
    const first = (await lastUses(db, [consentId])).get(consentId);
    assert.ok(first, 'the first use is recorded');

    await sql`update consent_last_use set last_used_at = now() - interval '30 seconds' where consent_id = ${consentId}`.execute(db);
    const backdated = (await lastUses(db, [consentId])).get(consentId)!;
    await recordConsentUse(db, consentId, start + 10_000);
    assert.equal((await lastUses(db, [consentId])).get(consentId)!.getTime(), backdated.getTime(), 'this process skips without a query');
  });

  test('across processes the database keeps it to one write a minute', async () => {
    const consentId = randomUUID();
    await recordConsentUse(db, consentId, 0);
    await sql`update consent_last_use set last_used_at = now() - interval '30 seconds' where consent_id = ${consentId}`.execute(db);
    const recent = (await lastUses(db, [consentId])).get(consentId)!;
    // Another process (its own memory says nothing yet) writes: the conditional upsert leaves the recent value.
    await recordConsentUse(db, consentId, 10 * 60_000);
    assert.equal((await lastUses(db, [consentId])).get(consentId)!.getTime(), recent.getTime());

    await sql`update consent_last_use set last_used_at = now() - interval '2 minutes' where consent_id = ${consentId}`.execute(db);
    const stale = (await lastUses(db, [consentId])).get(consentId)!;
    await recordConsentUse(db, consentId, 20 * 60_000);
    assert.ok((await lastUses(db, [consentId])).get(consentId)!.getTime() > stale.getTime(), 'a use more than a minute later is written');
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { appendAuditEvent, auditHistory, verifyAuditChain } from '../../src/audit/audit-trail.ts';
import { useMigratedDb } from '../support/fixture.ts';

const event = (subjectId: string, name: string) => ({
  subjectType: 'consent' as const,
  subjectId,
  event: name,
  actor: { kind: 'tpp' as const, id: 'tpp-1' },
  before: { status: 'AwaitingAuthorisation' },
  after: { status: 'Authorised' },
  details: { accounts: ['a', 'b'], nested: { z: 1, a: 2 } },
});

describe('audit trail', () => {
  const db = useMigratedDb();

  test('events chain per subject, read back in order, and the chain verifies', async () => {
    for (const name of ['created', 'authorised', 'revoked']) {
      await db.transaction().execute((trx) => appendAuditEvent(trx, event('c-1', name)));
    }
    await db.transaction().execute((trx) => appendAuditEvent(trx, event('c-other', 'created')));
    const history = await auditHistory(db, 'consent', 'c-1');
    assert.deepEqual(
      history.map((item) => [item.seq, item.event]),
      [
        [1, 'created'],
        [2, 'authorised'],
        [3, 'revoked'],
      ],
    );
    assert.deepEqual(history[0]?.details, { accounts: ['a', 'b'], nested: { z: 1, a: 2 } });
    assert.deepEqual(await verifyAuditChain(db, 'consent', 'c-1'), { valid: true, length: 3 });
  });

  test('the database hashes exactly what the application verifies: any text, and values that look like the links', async () => {
    const awkward = {
      ...event('c-awkward', 'created'),
      actor: { kind: 'customer' as const, id: null },
      before: null,
      details: {
        text: 'Zahlung an Müller & Söhne — "Miete" \\ 100 € 🏦',
        prev_hash: 'x',
        seq: 7,
        nested: { prev_hash: null, seq: [1, 2] },
      },
    };
    await db.transaction().execute((trx) => appendAuditEvent(trx, awkward));
    await db.transaction().execute((trx) => appendAuditEvent(trx, { ...awkward, event: 'again', after: undefined }));
    assert.deepEqual(await verifyAuditChain(db, 'consent', 'c-awkward'), { valid: true, length: 2 });
    assert.deepEqual((await auditHistory(db, 'consent', 'c-awkward'))[0]?.details, awkward.details);
  });

  test('an event rolls back with the transaction that carried it', async () => {
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await appendAuditEvent(trx, event('c-rollback', 'created'));
        throw new Error('the change failed');
      }),
    );
    assert.deepEqual(await auditHistory(db, 'consent', 'c-rollback'), []);
  });

  test('rows cannot be updated or deleted', async () => {
    await assert.rejects(db.updateTable('audit_event').set({ event: 'forged' }).where('subject_id', '=', 'c-1').execute(), /append-only/);
    await assert.rejects(db.deleteFrom('audit_event').where('subject_id', '=', 'c-1').execute(), /append-only/);
  });

  test('a row tampered with behind the trigger breaks the chain at that row', async () => {
    await db.connection().execute(async (connection) => {
      await sql`set session_replication_role = replica`.execute(connection);
      await connection
        .updateTable('audit_event')
        .set({ actor_id: 'someone-else' })
        .where('subject_id', '=', 'c-1')
        .where('seq', '=', 2)
        .execute();
      await sql`set session_replication_role = origin`.execute(connection);
    });
    assert.deepEqual(await verifyAuditChain(db, 'consent', 'c-1'), { valid: false, brokenAt: 2 });
  });

  test('concurrent appends to one subject still form one unbroken chain', async () => {
    await Promise.all(
      Array.from({ length: 12 }, (_, index) => db.transaction().execute((trx) => appendAuditEvent(trx, event('c-race', `e${index}`)))),
    );
    assert.deepEqual(await verifyAuditChain(db, 'consent', 'c-race'), { valid: true, length: 12 });
  });
});

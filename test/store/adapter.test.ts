import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { sql } from 'kysely';
import { errors } from 'oidc-provider';
import { KyselyAdapter, sweepExpired } from '../../src/store/adapter.ts';
import { holdUpserts } from '../../src/store/held-upserts.ts';
import { upsertModelRows } from '../../src/store/model-upsert.ts';
import { savingSessionReplacing } from '../../src/store/session-rotation.ts';
import { statementsDuring } from '../support/statements.ts';
import { useMigratedDb } from '../support/fixture.ts';

describe('Kysely adapter contract on real Postgres', () => {
  const db = useMigratedDb();

  test('upsert then find returns the payload; upsert again replaces it', async () => {
    const sessions = new KyselyAdapter(db, 'Session');
    await sessions.upsert('s1', { accountId: 'a1', uid: 'u1', kind: 'Session' }, 60);
    assert.deepEqual(await sessions.find('s1'), { accountId: 'a1', uid: 'u1', kind: 'Session' });
    await sessions.upsert('s1', { accountId: 'a2', uid: 'u1', kind: 'Session' }, 60);
    assert.equal((await sessions.find('s1'))?.accountId, 'a2');
    assert.equal(await sessions.find('missing'), undefined);
  });

  test('held upserts: nothing is sent while held, the last write of a row wins, and a write after the hold closed is sent, not lost', async () => {
    const grants = new KyselyAdapter(db, 'Grant');
    let late: Promise<void> | undefined;
    const { result, rows } = await holdUpserts(async () => {
      await grants.upsert('held-1', { kind: 'Grant', accountId: 'first' }, 60);
      await grants.upsert('held-1', { kind: 'Grant', accountId: 'second' }, 60);
      await grants.upsert('held-2', { kind: 'Grant' }, 60);
      // Left running by the scope: it writes once the hold has closed.
      late = setTimeout(20).then(() => grants.upsert('held-late', { kind: 'Grant' }, 60));
      return 'done';
    });
    assert.equal(result, 'done');
    assert.deepEqual(
      rows.map((row) => [row.id, JSON.parse(row.payload).accountId]),
      [
        ['held-1', 'second'],
        ['held-2', undefined],
      ],
    );
    assert.equal(await grants.find('held-1'), undefined, 'a held row is not sent');
    await late;
    assert.ok(await grants.find('held-late'), 'a write after the hold closed is sent');
    await upsertModelRows(db, rows).execute();
    assert.equal((await grants.find('held-1'))?.accountId, 'second');
  });

  test("a Session saved under a new id deletes its old row in the upsert's own statement; another row's upsert in the save deletes nothing", async () => {
    const sessions = new KyselyAdapter(db, 'Session');
    await sessions.upsert('rotating-old', { jti: 'rotating-old', uid: 'rotating-uid', accountId: 'a' }, 60);
    const statements = await statementsDuring(() =>
      savingSessionReplacing('rotating-old', async () => {
        await sessions.upsert('rotating-new', { jti: 'rotating-new', uid: 'rotating-uid', accountId: 'a', loginTs: 1 }, 60);
        await sessions.upsert('rotating-other', { jti: 'rotating-other', uid: 'other-uid' }, 60);
      }),
    );
    assert.equal(
      statements.filter((text) => text.startsWith('with "replaced" as (delete from "oidc_model"')).length,
      1,
      statements.join('\n'),
    );
    assert.equal(statements.filter((text) => text.startsWith('delete from')).length, 0, 'no delete of its own');
    assert.equal(await sessions.find('rotating-old'), undefined);
    assert.deepEqual(await sessions.findByUid('rotating-uid'), { jti: 'rotating-new', uid: 'rotating-uid', accountId: 'a', loginTs: 1 });
    assert.ok(await sessions.find('rotating-other'));
  });

  test('models are separate namespaces for the same id', async () => {
    await new KyselyAdapter(db, 'AccessToken').upsert('same', { kind: 'AccessToken' }, 60);
    assert.equal(await new KyselyAdapter(db, 'RefreshToken').find('same'), undefined);
  });

  test('findByUid and findByUserCode look up by their indexed columns', async () => {
    const sessions = new KyselyAdapter(db, 'Session');
    await sessions.upsert('s2', { uid: 'uid-2', kind: 'Session' }, 60);
    assert.equal((await sessions.findByUid('uid-2'))?.uid, 'uid-2');
    const devices = new KyselyAdapter(db, 'DeviceCode');
    await devices.upsert('d1', { userCode: 'ABCD-EFGH', kind: 'DeviceCode' }, 60);
    assert.equal((await devices.findByUserCode('ABCD-EFGH'))?.userCode, 'ABCD-EFGH');
    assert.equal(await devices.findByUserCode('ZZZZ-ZZZZ'), undefined);
  });

  test('an expired row is not found; a row without expiry never expires', async () => {
    const tokens = new KyselyAdapter(db, 'AccessToken');
    await tokens.upsert('soon', { kind: 'AccessToken' }, 1);
    await tokens.upsert('forever', { kind: 'AccessToken' });
    await db
      .updateTable('oidc_model')
      .set({ expires_at: sql`now() - interval '1 second'` })
      .where('id', '=', 'soon')
      .execute();
    assert.equal(await tokens.find('soon'), undefined);
    assert.ok(await tokens.find('forever'));
    const row = await db.selectFrom('oidc_model').select('expires_at').where('id', '=', 'forever').executeTakeFirstOrThrow();
    assert.equal(row.expires_at, null);
  });

  test('consume marks the row once; a second consume fails with invalid_grant and destroys the grant', async () => {
    const codes = new KyselyAdapter(db, 'AuthorizationCode');
    const tokens = new KyselyAdapter(db, 'AccessToken');
    const grants = new KyselyAdapter(db, 'Grant');
    await grants.upsert('g-consume', { kind: 'Grant' }, 600);
    await codes.upsert('c1', { grantId: 'g-consume', kind: 'AuthorizationCode' }, 60);
    await tokens.upsert('t1', { grantId: 'g-consume', kind: 'AccessToken' }, 60);

    await codes.consume('c1');
    // A spent code reads as unspent, so that every second redemption reaches consume, which decides.
    assert.equal((await codes.find('c1'))?.consumed, undefined);
    const refreshTokens = new KyselyAdapter(db, 'RefreshToken');
    await refreshTokens.upsert('r1', { grantId: 'g-other', kind: 'RefreshToken' }, 60);
    await refreshTokens.consume('r1');
    assert.equal(typeof (await refreshTokens.find('r1'))?.consumed, 'number');

    await assert.rejects(codes.consume('c1'), (error: unknown) => error instanceof errors.InvalidGrant);
    assert.equal(await grants.find('g-consume'), undefined);
    assert.equal(await tokens.find('t1'), undefined);
  });

  test('32 concurrent consumes of one row: exactly one succeeds', async () => {
    const codes = new KyselyAdapter(db, 'AuthorizationCode');
    await codes.upsert('race', { grantId: 'g-race', kind: 'AuthorizationCode' }, 60);
    const results = await Promise.allSettled(Array.from({ length: 32 }, () => codes.consume('race')));
    assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
  });

  test('destroy removes one row of one model', async () => {
    const tokens = new KyselyAdapter(db, 'AccessToken');
    await tokens.upsert('gone', { kind: 'AccessToken' }, 60);
    await tokens.upsert('kept', { kind: 'AccessToken' }, 60);
    await tokens.destroy('gone');
    assert.equal(await tokens.find('gone'), undefined);
    assert.ok(await tokens.find('kept'));
  });

  test("revokeByGrantId removes that grant's rows of that model only", async () => {
    const tokens = new KyselyAdapter(db, 'AccessToken');
    const refresh = new KyselyAdapter(db, 'RefreshToken');
    await tokens.upsert('a1', { grantId: 'g-revoke', kind: 'AccessToken' }, 60);
    await tokens.upsert('a2', { grantId: 'g-other', kind: 'AccessToken' }, 60);
    await refresh.upsert('r1', { grantId: 'g-revoke', kind: 'RefreshToken' }, 60);
    await tokens.revokeByGrantId('g-revoke');
    assert.equal(await tokens.find('a1'), undefined);
    assert.ok(await tokens.find('a2'));
    assert.ok(await refresh.find('r1'));
  });

  test('insertIfAbsent admits an id once while it lives, and again after it expired', async () => {
    const replays = new KyselyAdapter(db, 'ReplayDetection');
    const attempts = await Promise.all(Array.from({ length: 16 }, () => replays.insertIfAbsent('jti-1', { kind: 'ReplayDetection' }, 60)));
    assert.equal(attempts.filter(Boolean).length, 1);
    await db
      .updateTable('oidc_model')
      .set({ expires_at: sql`now() - interval '1 second'` })
      .where('id', '=', 'jti-1')
      .execute();
    assert.equal(await replays.insertIfAbsent('jti-1', { kind: 'ReplayDetection' }, 60), true);
  });

  test('the sweep deletes expired rows and keeps live ones', async () => {
    const tokens = new KyselyAdapter(db, 'AccessToken');
    await tokens.upsert('sweep-live', { kind: 'AccessToken' }, 600);
    for (let i = 0; i < 5; i += 1) await tokens.upsert(`sweep-dead-${i}`, { kind: 'AccessToken' }, 600);
    await db
      .updateTable('oidc_model')
      .set({ expires_at: sql`now() - interval '1 minute'` })
      .where('id', 'like', 'sweep-dead-%')
      .execute();
    const deleted = await sweepExpired(db, 2);
    assert.ok(deleted >= 5);
    const left = await db.selectFrom('oidc_model').select('id').where('id', 'like', 'sweep-%').execute();
    assert.deepEqual(
      left.map((row) => row.id),
      ['sweep-live'],
    );
  });
});

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { Client } from 'pg';
import { createIntrospectionUses, usesOfConsent } from '../../src/consents/consent-use.ts';
import { createLogger } from '../../src/logger.ts';
import { usesRecorded } from '../support/consent-uses.ts';
import { customerWithAccounts, grantConsent } from '../support/granted-consents.ts';
import { useAssent, useResourceServer, useTpp } from '../support/fixture.ts';

describe('consent use by introspection: noted on the request, written off it, once a minute', () => {
  const assent = useAssent();
  const tpp = useTpp(assent);
  const bank = useResourceServer(assent, 'Accounts API');

  /** An approved consent whose last use is more than a minute old, so its next introspection is recorded. */
  async function consentUsedLongAgo() {
    const { customer, current } = await customerWithAccounts(assent);
    const granted = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current] });
    await sql`update consent set last_used_at = now() - interval '2 minutes' where id = ${granted.consentId}`.execute(assent.db);
    return granted;
  }

  const introspectedUses = async (consentId: string) =>
    (await usesOfConsent(assent.db, consentId)).filter((use) => use.kind === 'introspected');

  test('introspection writes nothing on its path: with the consent row locked by another transaction it still answers active; the use is written once the lock goes, once for three calls', async () => {
    const granted = await consentUsedLongAgo();
    const holder = new Client({ connectionString: assent.databaseUrl });
    await holder.connect();
    try {
      await holder.query('begin');
      // What a consent transition in flight holds: a write of the consent row on the request path would wait for it.
      await holder.query('select id from consent where id = $1 for update', [granted.consentId]);
      for (let call = 0; call < 3; call += 1) {
        const answer = await Promise.race([
          oidc.tokenIntrospection(bank.config, granted.tokens.access_token),
          sleep(15_000).then(() => 'waited on the locked row' as const),
        ]);
        assert.notEqual(answer, 'waited on the locked row');
        assert.equal((answer as oidc.IntrospectionResponse).active, true);
        assert.equal((answer as oidc.IntrospectionResponse).consent_id, granted.consentId);
      }
      await sleep(1_500);
      assert.deepEqual(await introspectedUses(granted.consentId), [], 'nothing written while the row is locked');
      await holder.query('commit');
    } finally {
      await holder.end();
    }
    const uses = await usesRecorded(assent, granted.consentId, 'introspected');
    assert.deepEqual(
      uses.filter((use) => use.kind === 'introspected').map((use) => use.clientId),
      [bank.clientId],
      'three introspections within a minute are one use, by the bank',
    );
    const { rows } = await sql<{ last_used_at: Date }>`select last_used_at from consent where id = ${granted.consentId}`.execute(assent.db);
    assert.equal(rows[0]!.last_used_at.getTime(), uses.at(-1)!.occurredAt.getTime(), 'last_used_at is the recorded use');
  });

  test('two processes noting the same consent within the minute record it once; close writes what is noted at once', async () => {
    const granted = await consentUsedLongAgo();
    // Notes kept for a minute unless flushed: only close writes them.
    const first = createIntrospectionUses(assent.db, createLogger('silent'), 60_000);
    const second = createIntrospectionUses(assent.db, createLogger('silent'), 60_000);
    first.note(granted.consentId, bank.clientId);
    second.note(granted.consentId, tpp.clientId);
    assert.deepEqual(await introspectedUses(granted.consentId), [], 'noting writes nothing');
    await Promise.all([first.close(), second.close()]);
    assert.equal((await introspectedUses(granted.consentId)).length, 1);
  });
});

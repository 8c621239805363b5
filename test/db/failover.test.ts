import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runFailoverDrill } from '../support/failover-drill.ts';

/**
 * The short form of `npm run failover` (bench/failover.ts): a primary and its synchronous standby behind
 * HAProxy, a few seconds of mixed load, the primary killed, the standby promoted 5 s later: longer than
 * HAProxy's retries of a refused connection (3, a second apart), so /readyz must see the outage.
 */
test('Postgres failover under load: nothing acknowledged is lost, /readyz follows the outage, the process recovers alone', async (t) => {
  const report = await runFailoverDrill({ before: 2, outage: 5, after: 2, workers: 3 });
  t.diagnostic(JSON.stringify(report));

  assert.deepEqual(report.problems, [], 'every acknowledged write is on the new primary, chains unbroken, events delivered');
  assert.ok(
    report.acknowledged.flows > 0 &&
      report.acknowledged.consents > 0 &&
      report.acknowledged.deletes > 0 &&
      report.acknowledged.payments > 0,
    'the load wrote',
  );
  assert.ok(report.acknowledged.eventsReceived > 0, 'events were pushed');
  assert.equal(report.survived, true, 'the same process, never restarted');
  assert.equal(report.notReadyDuringOutage, true, '/readyz said 503 while the primary was gone');
  assert.ok(report.secondsToReady !== undefined && report.secondsToReady >= report.secondsToPromote - 0.5, '/readyz back once promoted');
  assert.equal(report.readyAtEnd, true);
  assert.ok(report.secondsToRecover !== undefined, 'writes were acknowledged again after the failover');
  assert.ok(
    report.secondsToRecover < report.secondsToPromote + 10,
    `writes back within 10 s of the promotion (${report.secondsToRecover} s)`,
  );
});

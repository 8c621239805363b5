import { setTimeout as sleep } from 'node:timers/promises';
import { connectDatabase } from '../../src/db/connect.ts';
import { type LoadedAssent, type Outcome, startLoadedAssent, undeliveredEvents, verifyLedger } from './mixed-load.ts';
import { startReplicatedPostgres } from './postgres-ha.ts';

/**
 * The failover drill: Assent as a real process whose DATABASE_URL names HAProxy in front of a primary and
 * its synchronous standby. The mixed load runs; the primary is killed (-9); `outage` seconds later (the
 * time a failover manager takes to decide) the standby is promoted and HAProxy sends connections to it;
 * the load runs on; then the promoted standby is held to everything Assent acknowledged.
 * bench/failover.ts prints the report; test/db/failover.test.ts asserts it.
 */

export interface DrillOptions {
  /** Seconds of load before the primary is killed. */
  before: number;
  /** Seconds between the kill and the promotion. */
  outage: number;
  /** Seconds of load once writes succeed again. */
  after: number;
  /** Concurrent loops of the mixed load. */
  workers: number;
}

export interface DrillReport {
  requests: number;
  /** Requests answered 5xx or not at all (a complete flow counts as one request). */
  failed: number;
  /** Seconds from the kill until `pg_ctl promote` returned and HAProxy was repointed. */
  secondsToPromote: number;
  /** From the kill to the end of the first acknowledged write (consent, delete or payment) begun after it. */
  secondsToRecover: number | undefined;
  /** From the kill to the first /readyz 200 answered after a 503. */
  secondsToReady: number | undefined;
  /** The longest any request waited for its answer. */
  slowestRequestSeconds: number;
  /** /readyz answered 503 between the kill and recovery. */
  notReadyDuringOutage: boolean;
  readyAtEnd: boolean;
  /** The Assent process never exited (nor was restarted). */
  survived: boolean;
  acknowledged: { flows: number; consents: number; deletes: number; payments: number; eventsReceived: number };
  /** What the new primary lacks of what was acknowledged, and events never delivered; empty when nothing was lost. */
  problems: string[];
}

const WRITES = new Set<Outcome['operation']>(['consent.create', 'consent.delete', 'vrp.payment']);

/** /readyz on the ops port every 100 ms until stopped: when each answer came and what it was (0: none). */
async function watchReadiness(opsPort: number, stop: { now: boolean }, seen: { at: number; status: number }[]) {
  while (!stop.now) {
    const status = await fetch(`http://127.0.0.1:${opsPort}/readyz`, { signal: AbortSignal.timeout(10_000) }).then(
      (response) => response.status,
      () => 0,
    );
    seen.push({ at: Date.now(), status });
    await sleep(100);
  }
}

export async function runFailoverDrill(options: DrillOptions): Promise<DrillReport> {
  const cluster = await startReplicatedPostgres();
  let target: LoadedAssent | undefined;
  const stop = { now: false };
  try {
    target = await startLoadedAssent(cluster.url);
    const { load, assent, opsPort } = target;
    const readiness: { at: number; status: number }[] = [];
    const watching = watchReadiness(opsPort, stop, readiness);
    const running = load.run(stop, options.workers);

    await sleep(options.before * 1000);
    const killedAt = Date.now();
    cluster.killPrimary();
    await sleep(options.outage * 1000);
    const { repointedAt } = await cluster.promoteStandby();
    const { outcomes } = load;
    const recovered = () => outcomes.find((outcome) => WRITES.has(outcome.operation) && outcome.ok && outcome.startedAt > killedAt);
    for (let waited = 0; !recovered() && waited < 60_000; waited += 100) await sleep(100);
    await sleep(options.after * 1000);
    stop.now = true;
    await Promise.all([running, watching]);

    // Held to what it acknowledged: the promoted standby, read directly.
    const promoted = await connectDatabase({ databaseUrl: cluster.standbyUrl, dataDir: '' });
    try {
      const problems = await verifyLedger(promoted, load);
      const missing = await undeliveredEvents(promoted, load, 20_000);
      if (missing.length > 0) problems.push(`${missing.length} events were never delivered to the TPP: ${missing.join(', ')}`);
      const firstWrite = recovered();
      const firstDown = readiness.find((probe) => probe.at > killedAt && probe.status !== 200);
      const readyAgain = firstDown && readiness.find((probe) => probe.at > firstDown.at && probe.status === 200);
      const seconds = (at: number) => (at - killedAt) / 1000;
      return {
        requests: outcomes.length,
        failed: outcomes.filter((outcome) => !outcome.ok).length,
        secondsToPromote: seconds(repointedAt),
        secondsToRecover: firstWrite && seconds(firstWrite.startedAt + firstWrite.ms),
        secondsToReady: readyAgain && seconds(readyAgain.at),
        slowestRequestSeconds: Math.max(...outcomes.map((outcome) => outcome.ms)) / 1000,
        notReadyDuringOutage: firstDown?.status === 503,
        readyAtEnd: (await fetch(`http://127.0.0.1:${opsPort}/readyz`)).status === 200,
        survived: assent.child.exitCode === null,
        acknowledged: {
          flows: load.ledger.authorised.size,
          consents: load.ledger.created.size,
          deletes: load.ledger.withdrawn.size,
          payments: load.ledger.payments.size,
          eventsReceived: load.receiver.received.length,
        },
        problems,
      };
    } finally {
      await promoted.destroy();
    }
  } finally {
    stop.now = true;
    await target?.close();
    await cluster.stop();
  }
}

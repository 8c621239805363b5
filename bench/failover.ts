import { runFailoverDrill } from '../test/support/failover-drill.ts';

/**
 * `npm run failover`: the failover drill at full length (test/support/failover-drill.ts). A primary and a
 * synchronous standby behind HAProxy, Assent as its own process on HAProxy's address, the mixed load; the
 * primary is killed -9, the standby promoted FAILOVER_OUTAGE seconds later. Prints the figures, and every
 * acknowledged write the new primary lacks (exit 1 when there is one).
 */

const setting = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const options = {
  before: setting('FAILOVER_BEFORE', 10),
  outage: setting('FAILOVER_OUTAGE', 5),
  after: setting('FAILOVER_AFTER', 10),
  workers: setting('FAILOVER_WORKERS', 4),
};
console.log(
  `failover drill: ${options.before} s of load, primary killed, standby promoted ${options.outage} s later, ${options.after} s more (${options.workers} workers)`,
);
const report = await runFailoverDrill(options);
const figure = (value: number | undefined) => (value === undefined ? 'never' : `${value.toFixed(2)} s`);
const rows: [string, string][] = [
  ['requests', String(report.requests)],
  ['requests failed (5xx or no answer)', String(report.failed)],
  ['kill -> standby promoted, HAProxy repointed', figure(report.secondsToPromote)],
  ['kill -> first write acknowledged again', figure(report.secondsToRecover)],
  ['kill -> /readyz 200 again', figure(report.secondsToReady)],
  ['slowest request', figure(report.slowestRequestSeconds)],
  ['/readyz 503 during the outage', String(report.notReadyDuringOutage)],
  ['same process throughout', String(report.survived)],
  [
    'acknowledged: consents / deletes / payments / events received',
    `${report.acknowledged.consents} / ${report.acknowledged.deletes} / ${report.acknowledged.payments} / ${report.acknowledged.eventsReceived}`,
  ],
  ['acknowledged writes missing on the new primary', String(report.problems.length)],
];
console.log(['| figure | value |', '|---|---|', ...rows.map(([name, value]) => `| ${name} | ${value} |`)].join('\n'));
for (const problem of report.problems) console.error(`lost: ${problem}`);
process.exit(report.problems.length > 0 ? 1 : 0);

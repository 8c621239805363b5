import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { runFailoverDrill } from '../test/support/failover-drill.ts';
import { startLoadedAssent } from '../test/support/mixed-load.ts';
import { startPgBouncer } from '../test/support/pgbouncer.ts';
import { startPostgresCluster } from '../test/support/postgres-cluster.ts';

/**
 * `npm run failover`: the failover drill at full length (test/support/failover-drill.ts). A primary and a
 * synchronous standby behind HAProxy, Assent as its own process on HAProxy's address, the mixed load; the
 * primary is killed -9, the standby promoted FAILOVER_OUTAGE seconds later. Prints the figures, and every
 * acknowledged write the new primary lacks (exit 1 when there is one). Then the same load for
 * FAILOVER_POOLER seconds on Postgres directly and through a transaction-pooling PgBouncer
 * (DATABASE_POOLER=transaction), side by side.
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
    'acknowledged: complete flows / consents / deletes / payments / events received',
    `${report.acknowledged.flows} / ${report.acknowledged.consents} / ${report.acknowledged.deletes} / ${report.acknowledged.payments} / ${report.acknowledged.eventsReceived}`,
  ],
  ['acknowledged writes missing on the new primary', String(report.problems.length)],
];
console.log(['| figure | value |', '|---|---|', ...rows.map(([name, value]) => `| ${name} | ${value} |`)].join('\n'));
for (const problem of report.problems) console.error(`lost: ${problem}`);

/** The mixed load for `seconds` on one address: requests per second, and how many failed. */
async function measureLoad(databaseUrl: string, env: Record<string, string>, seconds: number) {
  const target = await startLoadedAssent(databaseUrl, env);
  try {
    const stop = { now: false };
    const running = target.load.run(stop, options.workers);
    await sleep(seconds * 1000);
    stop.now = true;
    await running;
    const { outcomes } = target.load;
    return { perSecond: outcomes.length / seconds, failed: outcomes.filter((outcome) => !outcome.ok).length };
  } finally {
    await target.close();
  }
}

const poolerSeconds = setting('FAILOVER_POOLER', 10);
console.log(
  `\nthe same load for ${poolerSeconds} s on Postgres directly, then through PgBouncer (pool_mode = transaction, 4 server connections)`,
);
const cluster = await startPostgresCluster();
try {
  const admin = new Client({ connectionString: cluster.url });
  await admin.connect();
  // The statement timeout Assent cannot send through the pooler, set where docs/production.md says.
  for (const statement of ['create database direct', 'create database pooled', `alter database pooled set statement_timeout = '30s'`])
    await admin.query(statement);
  await admin.end();
  const at = (database: string) => Object.assign(new URL(cluster.url), { pathname: `/${database}` }).toString();
  const direct = await measureLoad(at('direct'), {}, poolerSeconds);
  const bouncer = await startPgBouncer(at('pooled'));
  try {
    const pooled = await measureLoad(bouncer.url, { DATABASE_POOLER: 'transaction' }, poolerSeconds);
    console.log(
      [
        '| database address | requests/s | failed |',
        '|---|---|---|',
        `| Postgres directly | ${direct.perSecond.toFixed(1)} | ${direct.failed} |`,
        `| PgBouncer, transaction pooling | ${pooled.perSecond.toFixed(1)} | ${pooled.failed} |`,
      ].join('\n'),
    );
  } finally {
    await bouncer.stop();
  }
} finally {
  cluster.stop();
}
process.exit(report.problems.length > 0 ? 1 : 0);

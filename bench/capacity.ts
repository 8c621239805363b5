import { CDR_NFRS, KEYCLOAK_SIZING } from './published-figures.ts';

/**
 * What the measured CPU per operation means in cores: Assent's throughput per fully used core beside
 * Keycloak's published per-vCPU figures, and the cores a bank needs for the Australian CDR's traffic tiers.
 * Derived from CPU time per operation (machine-load-independent), not from throughput on this shared machine.
 */

/** A measured row, as the bench's table holds it. */
export interface Measured {
  scenario: string;
  target: 'Assent' | 'bare engine';
  requestsPerSecond: number;
  p99: number;
  serverCpuMsPerRequest: number;
  databaseCpuMsPerRequest?: number;
}

/** The share of a core the sizing lets each busy: the rest is headroom for peaks, restarts and failover. */
export const HEADROOM_BUSY = 0.7;

const perCore = (cpuMsPerOp: number) => 1000 / Math.max(cpuMsPerOp, 0.001);

/** The keep-alive-free rows beside Keycloak's figures; `keycloakPerVcpu` says which published figure goes with which scenario. */
export function perCoreSection(rows: Measured[], scenarios: { name: string; keycloakPerVcpu: number | undefined }[]) {
  const lines = [
    '| scenario | server | measured throughput | p99 ms | server CPU ms / op | ops per fully used core (server process) | Postgres CPU ms / op | ops per core, server and Postgres together | Keycloak, published: ops per vCPU |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const { name, keycloakPerVcpu } of scenarios) {
    for (const row of rows.filter((candidate) => candidate.scenario === name)) {
      const database = row.databaseCpuMsPerRequest;
      // The bare engine has no database; Assent's is unmeasured when the bench does not run the cluster.
      const absent = row.target === 'bare engine' ? 'no database' : 'not measured';
      lines.push(
        `| ${name} | ${row.target} | ${row.requestsPerSecond.toFixed(0)} req/s | ${row.p99} | ${row.serverCpuMsPerRequest.toFixed(2)} | ${perCore(row.serverCpuMsPerRequest).toFixed(0)} | ${database?.toFixed(2) ?? absent} | ${database === undefined ? absent : perCore(row.serverCpuMsPerRequest + database).toFixed(0)} | ${row.target === 'bare engine' ? '' : keycloakPerVcpu === undefined ? 'missing: Keycloak publishes no figure for this' : `${keycloakPerVcpu} (${KEYCLOAK_SIZING.version})`} |`,
      );
    }
  }
  return [
    ...lines,
    '',
    "Ops per fully used core = 1000 / the server process's CPU ms per op: what one core does when the process keeps it busy (a core as the OS counts it here, one vCPU",
    "on a cloud VM). The load generator's own side of each handshake is in its process, not in these figures. Postgres' CPU per op is what the same op costs the database in addition.",
    '',
    `Keycloak's figure (${KEYCLOAK_SIZING.version}, ${KEYCLOAK_SIZING.url}): ${KEYCLOAK_SIZING.clientCredentialsWording}`,
    `Measured on the ${KEYCLOAK_SIZING.setup}. Later, ${KEYCLOAK_SIZING.later}.`,
    "The guide does not say how its clients authenticated; Assent's authenticate with their TLS certificate (tls_client_auth, as FAPI asks), so each handshake here is a mutual one.",
    'Both sides are compared before headroom: the guide asks for 150% extra CPU head-room on top of its figure, as the CDR sizing below keeps cores at most 70% busy.',
    'Keycloak publishes no per-vCPU figure for introspection; the introspection row has none to compare with.',
  ].join('\n');
}

/** The rows a CDR transaction stands for, and how many of each it takes. */
export interface TransactionMix {
  parts: { row: Measured | undefined; perTransaction: number; why: string }[];
}

const cores = (tps: number, cpuMsPerTransaction: number) => (tps * cpuMsPerTransaction) / 1000 / HEADROOM_BUSY;

const coresCell = (tps: number, cpuMsPerTransaction: number | undefined) =>
  cpuMsPerTransaction === undefined
    ? 'not measured'
    : `${cores(tps, cpuMsPerTransaction).toFixed(2)} (${Math.ceil(cores(tps, cpuMsPerTransaction))} whole)`;

/** CPU per CDR transaction of Assent and of Postgres, and the slowest p99 of its parts; undefined when a part was not measured. */
function transactionCost(mix: TransactionMix) {
  if (mix.parts.some((part) => !part.row)) return undefined;
  const parts = mix.parts as { row: Measured; perTransaction: number; why: string }[];
  const sum = (of: (row: Measured) => number) => parts.reduce((total, part) => total + part.perTransaction * of(part.row), 0);
  const worstP99 = Math.max(...parts.map((part) => part.row.p99));
  return {
    parts,
    assentMs: sum((row) => row.serverCpuMsPerRequest),
    // Undefined when the bench did not run the cluster itself (DATABASE_URL): its CPU was not measured.
    postgresMs: parts.every((part) => part.row.databaseCpuMsPerRequest !== undefined)
      ? sum((row) => row.databaseCpuMsPerRequest!)
      : undefined,
    worstP99,
    meetsLatency: worstP99 <= CDR_NFRS.highPriorityMs,
  };
}

/** Cores of Assent and of Postgres for each CDR secure-traffic tier, and the measured p99 against the High Priority threshold. */
export function cdrCapacitySection(mix: TransactionMix) {
  const cost = transactionCost(mix);
  if (!cost)
    return `Not derived: the run measured no ${mix.parts
      .filter((part) => !part.row)
      .map((part) => part.why)
      .join(', ')}.`;
  const { parts, assentMs, postgresMs, worstP99 } = cost;
  return [
    `The Consumer Data Standards' traffic thresholds (${CDR_NFRS.trafficUrl}): ${CDR_NFRS.trafficWording}`,
    `Their performance requirement (${CDR_NFRS.performanceUrl}): ${CDR_NFRS.performanceWording}.`,
    '',
    'A CDR "transaction" here is one secure call at the data holder, and what it costs the authorization server is taken to be:',
    '',
    ...parts.map(
      (part) =>
        `- ${part.perTransaction} x ${part.why} (row "${part.row.scenario}": Assent ${part.row.serverCpuMsPerRequest.toFixed(2)} ms, Postgres ${part.row.databaseCpuMsPerRequest?.toFixed(2) ?? '0'} ms of CPU per op)`,
    ),
    '',
    `That is ${assentMs.toFixed(2)} ms of Assent CPU and ${postgresMs?.toFixed(2) ?? 'an unmeasured amount of'} ms of Postgres CPU per transaction. The cores below keep each at most ${(HEADROOM_BUSY * 100).toFixed(0)}% busy at the tier's peak`,
    `(cores = peak TPS x CPU ms per transaction / 1000 / ${HEADROOM_BUSY}), on cores like this machine's; a second instance of each for availability is not counted.`,
    '',
    '| active authorisations | peak TPS (secure traffic) | Assent cores | Postgres cores |',
    '|---|---:|---:|---:|',
    ...CDR_NFRS.secureTrafficTiers.map(
      (tier) =>
        `| ${tier.authorisations} | ${tier.peakTps} | ${coresCell(tier.peakTps, assentMs)} | ${coresCell(tier.peakTps, postgresMs)} |`,
    ),
    '',
    `Latency: the slowest p99 of these rows is ${worstP99} ms, measured with every core of this machine busy (closed-loop load at full throughput, load generator on the same cores),`,
    `${cost.meetsLatency ? 'within' : 'beyond'} the High Priority threshold of ${CDR_NFRS.highPriorityMs} ms that 95% of calls must meet; sized as above, the cores run below that saturation.`,
  ].join('\n');
}

/** The cores the top tier needs, and whether the measured p99 meets the threshold: the capacity target's row. */
export function cdrCapacitySummary(mix: TransactionMix) {
  const cost = transactionCost(mix);
  if (!cost) return undefined;
  const top = CDR_NFRS.secureTrafficTiers.at(-1)!;
  return {
    tps: top.peakTps,
    assentCores: cores(top.peakTps, cost.assentMs),
    postgresCores: cost.postgresMs === undefined ? undefined : cores(top.peakTps, cost.postgresMs),
    worstP99: cost.worstP99,
    meetsLatency: cost.meetsLatency,
  };
}

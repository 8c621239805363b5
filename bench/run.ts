import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { Client, Pool } from 'pg';
import { Agent, fetch } from 'undici';
import { authenticator, createTestCustomer, type TestCustomer } from '../test/support/customers.ts';
import { hashPassword, verifyPassword } from '../src/customers/passwords.ts';
import { generateTotpSecret } from '../src/customers/totp.ts';
import type { BareCustomer } from './bare-pages.ts';
import type { Db } from '../src/db/connect.ts';
import type { Database } from '../src/db/schema.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { ensureDevPki, type PemPair } from '../src/http/dev-pki.ts';
import { type CpuSplit, PROCESS_KINDS, startPostgresCluster } from '../test/support/postgres-cluster.ts';
import { type BenchClient, benchClients, clientAssertion, pool, signedRequestObject } from './fixtures.ts';
import {
  assertActive,
  benchResourceServer,
  clonedTokenId,
  cloneConsentBound,
  consentBoundTokens,
  type ResourceServer,
} from './consent-bound.ts';
import { runFlows } from './flows.ts';
import { cdrCapacitySection, cdrCapacitySummary, perCoreSection, type TransactionMix } from './capacity.ts';
import { runFreshConnectionLoad } from './fresh-connections.ts';
import { KEYCLOAK_SIZING } from './published-figures.ts';
import { type LoadResult, runLoad } from './load.ts';
import { summarizeProfiles, type ProfileSummary } from './profile-summary.ts';
import { type ServerProcess, startServer, type Target } from './server-process.ts';

/**
 * `npm run bench`: a throwaway Postgres (or a fresh database in DATABASE_URL), the server as its own
 * process, load from this one. Prints the table and writes bench/results.md (BENCH_OUTPUT).
 */

const setting = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const DURATION = setting('BENCH_DURATION', 5);
const WARMUP = setting('BENCH_WARMUP', 2);
const CONNECTIONS = setting('BENCH_CONNECTIONS', 64);
/** Connections for the scenarios other than introspection. */
const REQUEST_CONNECTIONS = setting('BENCH_REQUEST_CONNECTIONS', 32);
const FLOW_CONCURRENCY = setting('BENCH_FLOW_CONCURRENCY', 8);
/**
 * Unmeasured complete flows before the measured ones. A process compiles its code in its first seconds of
 * work (V8's optimising compilers ran on a tenth of Assent's CPU in a flow measured from a fresh start), and
 * a bank's server runs for days: what is measured is the steady state, for both servers alike.
 */
const FLOW_WARMUP = setting('BENCH_FLOW_WARMUP', 10);
// Each TOTP code is accepted once: a customer manages about three flows per 30 s, so flows rotate through
// many, enough for the warm-up and the measured flows of one 30 s step without waiting for a code.
const BENCH_CUSTOMERS = setting('BENCH_CUSTOMERS', 400);
/** The bare engine's customers (three codes each per 30 s; it may run more flows than Assent). */
const BARE_CUSTOMERS = setting('BENCH_BARE_CUSTOMERS', 400);
const SCALE_SMALL = setting('BENCH_SCALE_SMALL', 10_000);
const SCALE_LARGE = setting('BENCH_SCALE_LARGE', 10_000_000);
/** Consents behind the stored tokens of the small and the large data run. */
const SCALE_CONSENTS_SMALL = setting('BENCH_SCALE_CONSENTS_SMALL', 10_000);
const SCALE_CONSENTS_LARGE = setting('BENCH_SCALE_CONSENTS_LARGE', 1_000_000);
/** Share of each scale's stored tokens that expire during the data run, for the retention sweep to delete. */
const SCALE_EXPIRING = setting('BENCH_SCALE_EXPIRING', 0.1);
/** Seconds after its clone over which a scale's expiring tokens expire, one after another. */
const SCALE_EXPIRY_SECONDS = setting('BENCH_SCALE_EXPIRY_SECONDS', 1800);
/**
 * SWEEP_INTERVAL of the data run's Assent processes: production's sweeps, run every 5 s rather than the
 * default 60 s so that each measured window holds at least one.
 */
const SCALE_SWEEP_INTERVAL = setting('BENCH_SCALE_SWEEP_INTERVAL', 5);
/** Alternating measurements of each scale in the data run; each scale's row is its median round. */
const SCALE_ROUNDS = setting('BENCH_SCALE_ROUNDS', 5);
/** Alternating rounds of each side-by-side scenario (bare engine, Assent, ...); each target's row is its median round. */
const ROUNDS = setting('BENCH_ROUNDS', 3);
/** Consents approved through the pages for the consent-bound introspection scenario (each one a complete flow). */
const CONSENT_TOKENS = setting('BENCH_CONSENT_TOKENS', 8);
const CONSENT_BOUND = 'introspection of a consent-bound token (resource server, tls_client_auth)';
const COMPLETE_FLOWS = 'complete flows (PAR, login, one-time code, consent, token)';
const OWN_INTROSPECTION = 'introspection (tls_client_auth, own token)';
const CC_MTLS = 'client_credentials, tls_client_auth';
/** The scenarios measured again with a new TLS connection per request, as Keycloak's sizing figures are. */
const freshConnections = (scenario: string) => `${scenario}, new TLS connection per request`;
// Below the in-memory adapter's 1,000-entry LRU, so the baseline introspects live tokens too.
const PRE_ISSUED = setting('BENCH_PRE_ISSUED', 500);
const PROFILE = process.env.BENCH_PROFILE !== '0';
/** The several-processes run measures 1 to this many Assent processes over the one Postgres. */
const PROCESSES = setting('BENCH_PROCESSES', 3);
/** BENCH_QUICK=1: the side-by-side request scenarios only (and their profile), for quick looks while working. */
const QUICK = process.env.BENCH_QUICK === '1';
/** BENCH_ONLY=text: only the side-by-side scenarios whose name contains it. */
const ONLY = process.env.BENCH_ONLY;
/** BENCH_FLOWS_ONLY=1: the complete flows alone (and their round trips), for quick looks at the authorization pages. */
const FLOWS_ONLY = process.env.BENCH_FLOWS_ONLY === '1';
/** BENCH_SCALE_ONLY=1: the data run alone (small, then large stored data), for quick looks at introspection at scale. */
const SCALE_ONLY = process.env.BENCH_SCALE_ONLY === '1';
/** BENCH_PROFILE_DIR: keep Assent's .cpuprofile files there (for a look in DevTools) instead of deleting them. */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
// A flows-only or scale-only run writes nowhere unless told: bench/results.md holds the full run.
const OUTPUT = process.env.BENCH_OUTPUT ?? (FLOWS_ONLY || SCALE_ONLY ? undefined : fileURLToPath(new URL('./results.md', import.meta.url)));

interface Row extends LoadResult {
  scenario: string;
  target: Target;
  rssMiB: number;
  unit: 'req/s' | 'flows/s';
  /** Data run: rows the retention sweep deleted from oidc_model in the scale's measured windows, all rounds. */
  sweptRows?: number;
}

/** How one scale's stored data was made: its clone's time and what it takes on disk. */
interface CloneReport {
  tokens: number;
  consents: number;
  expiring: number;
  seconds: number;
  size: string;
}

type Clients = Awaited<ReturnType<typeof benchClients>>;

const log = (line: string) => process.stderr.write(`${line}\n`);
const form = (values: Record<string, string>) => new URLSearchParams(values).toString();
const pick = <T>(values: T[]) => values[Math.floor(Math.random() * values.length)]!;

async function issueTokens(issuer: string, agent: Agent, client: BenchClient, count: number): Promise<string[]> {
  const tokens: string[] = [];
  const body = form({ grant_type: 'client_credentials', scope: 'accounts', client_id: client.clientId });
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (tokens.length < count) {
        const response = await fetch(`${issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
          dispatcher: agent,
        });
        if (response.status !== 200) throw new Error(`token pre-issue failed: ${response.status} ${await response.text()}`);
        tokens.push(((await response.json()) as { access_token: string }).access_token);
      }
    }),
  );
  return tokens;
}

/** What the consent-bound scenarios need of the run: its database and CA, and what they made there. */
interface ConsentBench {
  db: Db;
  ca: PemPair;
  rs?: ResourceServer;
  granted?: { token: string; consentId: string }[];
}

/** A request scenario, run against each target in turn: what it posts, where, with which certificate. */
interface RequestScenario {
  name: string;
  route: string;
  connections: number;
  /** Each request on a new connection with a full TLS handshake, not over keep-alive connections. */
  freshConnections?: true;
  client: (clients: Clients) => BenchClient;
  /**
   * Unmeasured preparation against this target (pre-issued tokens, pre-signed JWTs): the body maker, the
   * tokens it introspects, and the certificate to present when it is not the client's.
   */
  prepare: (
    server: ServerProcess,
    clients: Clients,
    tppAgent: Agent,
    target: Target,
    bench: ConsentBench,
  ) => Promise<{ body: () => string; tokens?: string[]; certificate?: PemPair }>;
}

const ownIntrospection: RequestScenario = {
  name: OWN_INTROSPECTION,
  route: '/token/introspection',
  connections: CONNECTIONS,
  client: (clients) => clients.mtls,
  async prepare(server, clients, tppAgent) {
    const tokens = await issueTokens(server.issuer, tppAgent, clients.mtls, PRE_ISSUED);
    return { body: () => form({ token: pick(tokens), client_id: clients.mtls.clientId }), tokens };
  },
};

const clientCredentialsMtls: RequestScenario = {
  name: CC_MTLS,
  route: '/token',
  connections: REQUEST_CONNECTIONS,
  client: (clients) => clients.mtls,
  async prepare(_server, clients) {
    const body = form({ grant_type: 'client_credentials', scope: 'accounts', client_id: clients.mtls.clientId });
    return { body: () => body };
  },
};

const requestScenarios: RequestScenario[] = [
  {
    // The bare engine knows no consents: its side is a tls_client_auth client introspecting a live
    // token of its own, the same work minus everything a consent adds.
    name: CONSENT_BOUND,
    route: '/token/introspection',
    connections: CONNECTIONS,
    client: (clients) => clients.mtls,
    async prepare(server, clients, tppAgent, target, bench) {
      if (target === 'bare engine') {
        const tokens = await issueTokens(server.issuer, tppAgent, clients.mtls, PRE_ISSUED);
        return { body: () => form({ token: pick(tokens), client_id: clients.mtls.clientId }) };
      }
      bench.rs ??= await benchResourceServer(bench.db, bench.ca);
      bench.granted ??= await consentBoundTokens({ issuer: server.issuer, db: bench.db, ca: bench.ca }, CONSENT_TOKENS);
      const rs = bench.rs;
      const tokens = bench.granted.map((granted) => granted.token);
      const agent = new Agent({ connect: { ca: bench.ca.certPem, cert: rs.certificate.certPem, key: rs.certificate.keyPem } });
      for (const token of tokens) await assertActive(server.issuer, agent, rs, token);
      await agent.close();
      return { body: () => form({ token: pick(tokens), client_id: rs.clientId }), certificate: rs.certificate };
    },
  },
  ownIntrospection,
  clientCredentialsMtls,
  {
    name: 'client_credentials, private_key_jwt',
    route: '/token',
    connections: REQUEST_CONNECTIONS,
    client: (clients) => clients.pkjwt,
    async prepare(server, clients) {
      const assertion = pool((DURATION + WARMUP) * 3000, () => clientAssertion(clients.pkjwt, server.issuer));
      return {
        body: () =>
          form({
            grant_type: 'client_credentials',
            scope: 'accounts',
            client_id: clients.pkjwt.clientId,
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: assertion(),
          }),
      };
    },
  },
  {
    name: 'PAR with signed request object',
    route: '/request',
    connections: REQUEST_CONNECTIONS,
    client: (clients) => clients.mtls,
    async prepare(server, clients) {
      const signed = pool((DURATION + WARMUP) * 2000, () => signedRequestObject(clients.mtls, server.issuer));
      return { body: () => form({ client_id: clients.mtls.clientId, request: signed().request }) };
    },
  },
  { ...ownIntrospection, name: freshConnections(OWN_INTROSPECTION), connections: REQUEST_CONNECTIONS, freshConnections: true },
  { ...clientCredentialsMtls, name: freshConnections(CC_MTLS), freshConnections: true },
];

function printRow(row: Row) {
  log(
    `  ${row.target.padEnd(12)} ${row.scenario.padEnd(46)} ${row.requestsPerSecond.toFixed(row.unit === 'flows/s' ? 1 : 0).padStart(6)} ${row.unit}  p50 ${row.p50} ms  p99 ${row.p99} ms  errors ${row.errors}  cpu ${row.serverCpuMsPerRequest.toFixed(2)} ms/op (database ${row.databaseCpuMsPerRequest?.toFixed(2) ?? '-'}, load generator ${row.generatorCpuMsPerRequest.toFixed(2)})  rss ${row.rssMiB} MiB`,
  );
  for (const [status, { count, body }] of Object.entries(row.refusals ?? {})) log(`    ${count} answered ${status}, the first: ${body}`);
}

/**
 * Each request scenario against the bare engine, then against Assent, back to back, so that both see
 * about the same machine load, in `rounds` alternating rounds (bare engine, Assent, bare engine, ...):
 * each target's row is its median round by throughput, so a burst of other work on the shared machine
 * during one measurement does not decide the ratio. The introspection tokens each issued are returned
 * for later runs.
 */
async function sideBySide(
  servers: Partial<Record<Target, ServerProcess>>,
  clients: Clients,
  ca: string,
  bench: ConsentBench,
  rounds = ROUNDS,
) {
  const rows: Row[] = [];
  const tokens: string[] = [];
  for (const scenario of requestScenarios.filter((candidate) => !ONLY || candidate.name.includes(ONLY))) {
    const measuredTargets = (['bare engine', 'Assent'] as const).filter((candidate) => servers[candidate]);
    const client = scenario.client(clients);
    const measured = new Map<Target, Row[]>(measuredTargets.map((target) => [target, []]));
    for (let round = 1; round <= rounds; round += 1) {
      if (rounds > 1) log(`  round ${round} of ${rounds}:`);
      for (const target of measuredTargets) {
        const server = servers[target]!;
        // Prepared per measurement: assertions and request objects are single-use.
        const tppAgent = new Agent({ connect: { ca, cert: client.certificate.certPem, key: client.certificate.keyPem } });
        const prepared = await scenario.prepare(server, clients, tppAgent, target, bench);
        await tppAgent.close();
        if (target === 'Assent' && round === 1 && !scenario.freshConnections) tokens.push(...(prepared.tokens ?? []));
        const result = await (scenario.freshConnections ? runFreshConnectionLoad : runLoad)({
          url: `${server.issuer}${scenario.route}`,
          connections: scenario.connections,
          durationSeconds: DURATION,
          warmupSeconds: WARMUP,
          serverCpuMs: server.cpuMs,
          databaseCpuMs: server.databaseCpuMs,
          certificate: prepared.certificate ?? client.certificate,
          body: prepared.body,
        });
        const row: Row = { scenario: scenario.name, target, rssMiB: server.rssMiB(), unit: 'req/s', ...result };
        measured.get(target)!.push(row);
        printRow(row);
      }
    }
    for (const target of measuredTargets) {
      const median = measured.get(target)!.toSorted((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor((rounds - 1) / 2)]!;
      rows.push(median);
      if (rounds > 1) log(`  median round of ${target}: ${median.requestsPerSecond.toFixed(0)} req/s`);
    }
  }
  return { rows, tokens };
}

/**
 * Customers for the bare engine's pages: each its own username and authenticator; one password and its
 * argon2id hash (Assent's parameters) for all of them, since the verify costs the same for any.
 */
async function bareEngineCustomers(count: number): Promise<{ stored: BareCustomer[]; signingIn: TestCustomer[] }> {
  const password = randomBytes(12).toString('base64url');
  const passwordHash = await hashPassword(password);
  const signingIn = Array.from({ length: count }, (_, index): TestCustomer => {
    const totpSecret = generateTotpSecret();
    const username = `bare-${index}`;
    return { id: username, username, displayName: username, password, totpSecret, nextCode: authenticator(totpSecret) };
  });
  return { stored: signingIn.map(({ username, totpSecret }) => ({ username, passwordHash, totpSecret })), signingIn };
}

async function completeFlows(
  server: ServerProcess,
  target: Target,
  clients: Clients,
  ctx: { ca: string; customers: TestCustomer[] },
  beforeMeasuring?: () => Promise<void>,
) {
  const tppAgent = new Agent({ connect: { ca: ctx.ca, cert: clients.mtls.certificate.certPem, key: clients.mtls.certificate.keyPem } });
  const flows = await runFlows({
    issuer: server.issuer,
    client: clients.mtls,
    tppAgent,
    browserAgent: new Agent({ connect: { ca: ctx.ca } }),
    customers: ctx.customers,
    concurrency: FLOW_CONCURRENCY,
    durationSeconds: DURATION,
    warmupSeconds: FLOW_WARMUP,
    ...(beforeMeasuring && { beforeMeasuring }),
    serverCpuMs: server.cpuMs,
    databaseCpuMs: server.databaseCpuMs,
  });
  await tppAgent.close();
  if (flows.firstError) log(`  first flow error: ${flows.firstError}`);
  const row: Row = { scenario: COMPLETE_FLOWS, target, rssMiB: server.rssMiB(), unit: 'flows/s', ...flows };
  printRow(row);
  return row;
}

/** The complete flows measured again after the data run, over the large data it stored. */
const flowsOverStoredData = () =>
  `${COMPLETE_FLOWS}, ${SCALE_LARGE.toLocaleString('en')} tokens and ${SCALE_CONSENTS_LARGE.toLocaleString('en')} consents stored`;

const processLabel = (count: number) => `${count} process${count === 1 ? '' : 'es'}`;

/** The request scenarios again, the connections spread over several Assent processes on one database. */
async function severalProcesses(processes: ServerProcess[], clients: Clients, tokens: string[]) {
  const urls = (route: string) => processes.map((server) => `${server.issuer}${route}`);
  const serverCpuMs = () => processes.reduce((sum, server) => sum + server.cpuMs(), 0);
  const { databaseCpuMs } = processes[0]!;
  const rss = () => Math.max(...processes.map((server) => server.rssMiB()));
  const label = processLabel(processes.length);
  const introspection = await runLoad({
    url: urls('/token/introspection'),
    connections: CONNECTIONS,
    durationSeconds: DURATION,
    warmupSeconds: WARMUP,
    serverCpuMs,
    databaseCpuMs,
    certificate: clients.mtls.certificate,
    body: () => form({ token: pick(tokens), client_id: clients.mtls.clientId }),
  });
  const ccBody = form({ grant_type: 'client_credentials', scope: 'accounts', client_id: clients.mtls.clientId });
  const cc = await runLoad({
    url: urls('/token'),
    connections: REQUEST_CONNECTIONS,
    durationSeconds: DURATION,
    warmupSeconds: WARMUP,
    serverCpuMs,
    databaseCpuMs,
    certificate: clients.mtls.certificate,
    body: () => ccBody,
  });
  const rows: Row[] = [
    { scenario: `${OWN_INTROSPECTION}, ${label}`, target: 'Assent', rssMiB: rss(), unit: 'req/s', ...introspection },
    { scenario: `${CC_MTLS}, ${label}`, target: 'Assent', rssMiB: rss(), unit: 'req/s', ...cc },
  ];
  rows.forEach(printRow);
  return rows;
}

/**
 * How throughput grows with processes over the one Postgres: each count's throughput beside one
 * process's, and the CPU per operation of the processes and of Postgres (the part that does not shrink
 * when processes are added: where it meets the cores left, Postgres is the limit).
 */
function scaling(rows: Row[]) {
  const lines = [
    '| scenario | processes | throughput | / 1 process | Assent CPU ms / op | Postgres CPU ms / op |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const scenario of [OWN_INTROSPECTION, CC_MTLS]) {
    const one = rows.find((row) => row.scenario === `${scenario}, ${processLabel(1)}`);
    for (let count = 1; count <= PROCESSES; count += 1) {
      const row = rows.find((candidate) => candidate.scenario === `${scenario}, ${processLabel(count)}`);
      if (!row) continue;
      lines.push(
        `| ${scenario} | ${count} | ${row.requestsPerSecond.toFixed(0)} req/s | ${ratio(row.requestsPerSecond, one?.requestsPerSecond)} | ${row.serverCpuMsPerRequest.toFixed(2)} | ${row.databaseCpuMsPerRequest?.toFixed(2) ?? ''} |`,
      );
    }
  }
  return lines.join('\n');
}

/** One scale of the data run: its database, the Assent process on it, its resource server, what it stores. */
interface Scale {
  tokens: number;
  consents: number;
  server: ServerProcess;
  bench: ConsentBench;
}

/**
 * Consent-bound introspection by the resource server over the stored data of the small and the large
 * run, each in a database of its own with an Assent process of its own, measured in alternating rounds
 * (small, large, small, large, ...): each scale's row is the median round. Measured one after the other,
 * minutes apart (the large clone takes minutes), the two saw different machine loads on this shared
 * machine, and their ratio swung with the load (0.71x to 1.41x) more than with the data. Each process
 * runs production's periodic sweeps (every SCALE_SWEEP_INTERVAL s) over its database, where a share of
 * the stored tokens expires during the run: the sweep's deletes land in the measured windows.
 */
async function scaleRun(bench: ConsentBench, run: Pick<RunContext, 'start' | 'newDatabase'>) {
  const sweeping = { SWEEP_INTERVAL: String(SCALE_SWEEP_INTERVAL) };
  const small = await run.newDatabase();
  const scales: Scale[] = [
    {
      tokens: SCALE_SMALL,
      consents: SCALE_CONSENTS_SMALL,
      server: await run.start('Assent', [], { DATABASE_URL: small.url, ...sweeping }),
      bench: { db: small.db, ca: bench.ca },
    },
    { tokens: SCALE_LARGE, consents: SCALE_CONSENTS_LARGE, server: await run.start('Assent', [], sweeping), bench },
  ];
  const agents: Agent[] = [];
  const clones: CloneReport[] = [];
  const measure: (() => Promise<LoadResult & { sweptRows: number }>)[] = [];
  for (const scale of scales) {
    const { server: scaleServer, bench: scaleBench } = scale;
    const rs = scaleBench.rs ?? (scaleBench.rs = await benchResourceServer(scaleBench.db, scaleBench.ca));
    const [template] =
      scaleBench.granted ??
      (scaleBench.granted = await consentBoundTokens({ issuer: scaleServer.issuer, db: scaleBench.db, ca: scaleBench.ca }, 1));
    const expiring = Math.round(scale.tokens * SCALE_EXPIRING);
    const live = scale.tokens - expiring;
    const started = Date.now();
    await cloneConsentBound(scaleBench.db, template!, {
      consents: [1, scale.consents],
      tokens: [1, scale.tokens],
      totalConsents: scale.consents,
      expiring: { count: expiring, seconds: SCALE_EXPIRY_SECONDS },
    });
    const clone: CloneReport = { ...scale, expiring, seconds: (Date.now() - started) / 1000, size: await storedSize(scaleBench.db) };
    clones.push(clone);
    log(
      `  ${scale.tokens} stored consent-bound tokens (${expiring} expiring) over ${scale.consents} consents in ${clone.seconds.toFixed(1)} s; ${clone.size}`,
    );
    const agent = new Agent({ connect: { ca: scaleBench.ca.certPem, cert: rs.certificate.certPem, key: rs.certificate.keyPem } });
    agents.push(agent);
    // The load introspects live tokens only: an expiring one may be gone by the time it is asked for.
    for (const i of [1, live, 1 + Math.floor(Math.random() * live)]) await assertActive(scaleServer.issuer, agent, rs, clonedTokenId(i));
    measure.push(async () => {
      let roundTripsBefore: Record<string, number> = {};
      let databaseBefore: DatabaseWork | undefined;
      const result = await runLoad({
        beforeMeasuring: async () => {
          roundTripsBefore = await scaleServer.roundTrips();
          databaseBefore = await databaseWork(scaleBench.db);
        },
        url: `${scaleServer.issuer}/token/introspection`,
        connections: CONNECTIONS,
        durationSeconds: DURATION,
        warmupSeconds: WARMUP,
        serverCpuMs: scaleServer.cpuMs,
        databaseCpuMs: scaleServer.databaseCpuMs,
        certificate: rs.certificate,
        body: () => form({ token: clonedTokenId(1 + Math.floor(Math.random() * live)), client_id: rs.clientId }),
      });
      printRow({
        scenario: scaleScenario(scale.tokens, scale.consents),
        target: 'Assent',
        rssMiB: scaleServer.rssMiB(),
        unit: 'req/s',
        ...result,
      });
      logRoundTrips(roundTripsBefore, await scaleServer.roundTrips(), result.total);
      const databaseAfter = await databaseWork(scaleBench.db);
      logDatabaseWork(databaseBefore!, databaseAfter, result.total);
      return { ...result, sweptRows: databaseAfter.oidcModelDeletes - databaseBefore!.oidcModelDeletes };
    });
  }
  const results: (LoadResult & { sweptRows: number })[][] = scales.map(() => []);
  for (let round = 1; round <= SCALE_ROUNDS; round += 1) {
    log(`  round ${round} of ${SCALE_ROUNDS}:`);
    for (const [i, measureScale] of measure.entries()) {
      // Both databases share the cluster (and its CPU counter): the other scale's process is paused, and
      // its sweep's last statement let finish, so that each window holds its own database's sweeps only.
      const others = scales.filter((_, other) => other !== i);
      for (const other of others) other.server.child.kill('SIGSTOP');
      await Promise.all(others.map((other) => statementsFinished(other.bench.db)));
      try {
        results[i]!.push(await measureScale());
      } finally {
        for (const other of others) other.server.child.kill('SIGCONT');
      }
    }
  }
  await Promise.all(agents.map((agent) => agent.close()));
  const rows = scales.map((scale, i): Row => ({
    scenario: scaleScenario(scale.tokens, scale.consents),
    target: 'Assent',
    rssMiB: scale.server.rssMiB(),
    unit: 'req/s',
    ...medianRound(results[i]!),
    sweptRows: results[i]!.reduce((sum, result) => sum + result.sweptRows, 0),
  }));
  await Promise.all(scales.map((scale) => scale.server.stop()));
  log('  median rounds:');
  rows.forEach(printRow);
  return { rows, clones };
}

/** Waits until no other session runs a statement in `db`'s database (a paused process's sweep, say). */
async function statementsFinished(db: Db) {
  for (;;) {
    const { rows } = await sql<{ running: string }>`
      select count(*) as running from pg_stat_activity
       where datname = current_database() and state = 'active' and backend_type = 'client backend' and pid <> pg_backend_pid()`.execute(db);
    if (Number(rows[0]!.running) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The round with the median p50 (its own throughput, p99 and CPU: figures of one measurement, not a mix). */
function medianRound<T extends LoadResult>(results: T[]): T {
  return results.toSorted((a, b) => a.p50 - b.p50)[Math.floor((results.length - 1) / 2)]!;
}

/** What each measured introspection of the data run cost in round trips, by statement: the reads, and any write. */
function logRoundTrips(before: Record<string, number>, after: Record<string, number>, requests: number) {
  for (const [statement, count] of Object.entries(after)) {
    const perRequest = (count - (before[statement] ?? 0)) / requests;
    if (perRequest >= 0.005) log(`    ${perRequest.toFixed(2)} per introspection: ${statement}`);
  }
}

/** What the stored data takes, against the bench cluster's 1 GiB of shared_buffers. */
async function storedSize(db: Db) {
  const { rows } = await sql<{ name: string; table: string; indexes: string }>`
    select relname as name, pg_size_pretty(pg_table_size(oid)) as table, pg_size_pretty(pg_indexes_size(oid)) as indexes
      from pg_class where relname in ('oidc_model', 'consent') order by relname desc`.execute(db);
  return rows.map((row) => `${row.name} ${row.table} (indexes ${row.indexes})`).join(', ');
}

/** Postgres' own counters of what the statements cost: WAL written, and shared buffers found or read in. */
interface DatabaseWork {
  walBytes: number;
  fullPageImages: number;
  hit: number;
  read: number;
  consentUpdates: number;
  hotUpdates: number;
  /** Rows deleted from oidc_model so far: the retention sweep's, while only introspections run. */
  oidcModelDeletes: number;
}

async function databaseWork(db: Db): Promise<DatabaseWork> {
  // Backends report their counters when idle (at most once a second): wait for the last ones.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const { rows } = await sql<Record<'wal_bytes' | 'wal_fpi' | 'hit' | 'read' | 'updates' | 'hot_updates' | 'deletes', string>>`
    select w.wal_bytes, w.wal_fpi, d.blks_hit as hit, d.blks_read as read, t.n_tup_upd as updates, t.n_tup_hot_upd as hot_updates,
           (select n_tup_del from pg_stat_user_tables where relname = 'oidc_model') as deletes
      from pg_stat_wal w, pg_stat_database d, pg_stat_user_tables t where d.datname = current_database() and t.relname = 'consent'`.execute(
    db,
  );
  const row = rows[0]!;
  return {
    walBytes: Number(row.wal_bytes),
    fullPageImages: Number(row.wal_fpi),
    hit: Number(row.hit),
    read: Number(row.read),
    consentUpdates: Number(row.updates),
    hotUpdates: Number(row.hot_updates),
    oidcModelDeletes: Number(row.deletes),
  };
}

function logDatabaseWork(before: DatabaseWork, after: DatabaseWork, requests: number) {
  const per = (key: keyof DatabaseWork) => ((after[key] - before[key]) / Math.max(requests, 1)).toFixed(2);
  log(
    `    per introspection: ${per('walBytes')} WAL bytes, ${per('fullPageImages')} full-page images, ${per('hit')} buffers hit, ${per('read')} read from outside shared_buffers, ${per('consentUpdates')} consent row updates (${per('hotUpdates')} HOT); the sweep deleted ${after.oidcModelDeletes - before.oidcModelDeletes} oidc_model rows`,
  );
}

const scaleScenario = (tokens: number, consents: number) =>
  `consent-bound introspection, ${tokens.toLocaleString('en')} stored tokens, ${consents.toLocaleString('en')} consents`;

const ratio = (ours: number, theirs: number | undefined) => (theirs ? (ours / theirs).toFixed(2) : '');

function table(rows: Row[]) {
  const bare = new Map(rows.filter((row) => row.target === 'bare engine').map((row) => [row.scenario, row]));
  const lines = [
    '| scenario | server | throughput | p50 ms | p99 ms | errors / total | RSS MiB | server CPU ms / op | database CPU ms / op | throughput / bare engine | p99 / bare engine |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const baseline = row.target === 'Assent' ? bare.get(row.scenario) : undefined;
    lines.push(
      `| ${row.scenario} | ${row.target} | ${row.requestsPerSecond.toFixed(row.unit === 'flows/s' ? 1 : 0)} ${row.unit} | ${row.p50} | ${row.p99} | ${row.errors} / ${row.total} | ${row.rssMiB} | ${row.serverCpuMsPerRequest.toFixed(2)} | ${row.databaseCpuMsPerRequest?.toFixed(2) ?? ''} | ${ratio(row.requestsPerSecond, baseline?.requestsPerSecond)} | ${ratio(row.p99, baseline?.p99)} |`,
    );
  }
  return lines.join('\n');
}

const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'met' : 'missed');
const x = (value: number | undefined) => `${value?.toFixed(2)}x`;
const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

/** Postgres CPU per complete flow in the full run of 2026-12-07 that issue 32 starts from: the target halves it. */
const POSTGRES_MS_PER_FLOW_BEFORE = 17.8;

/** The keep-alive-free scenarios, with Keycloak's published figure for each. */
const perCoreScenarios = [
  { name: freshConnections(CC_MTLS), keycloakPerVcpu: KEYCLOAK_SIZING.clientCredentialsPerVcpu },
  { name: freshConnections(OWN_INTROSPECTION), keycloakPerVcpu: KEYCLOAK_SIZING.introspectionPerVcpu },
];

const findRow = (rows: Row[], scenario: string, target: Target = 'Assent') =>
  rows.find((row) => row.target === target && row.scenario === scenario);

/**
 * What a CDR transaction costs the authorization server: the resource server's consent-bound
 * introspection (over the large stored data when the data run ran), and, at worst, a token request by the
 * data recipient on a new TLS connection for every call (a real one reuses its token for a session).
 */
function cdrMix(rows: Row[]): TransactionMix {
  return {
    parts: [
      {
        row: findRow(rows, scaleScenario(SCALE_LARGE, SCALE_CONSENTS_LARGE)) ?? findRow(rows, CONSENT_BOUND),
        perTransaction: 1,
        why: "consent-bound introspection by the bank's resource server (keep-alive)",
      },
      {
        row: findRow(rows, freshConnections(CC_MTLS)),
        perTransaction: 1,
        why: 'token request by the data recipient on a new TLS connection (client_credentials with tls_client_auth stands in for the refresh_token grant)',
      },
    ],
  };
}

function targets(rows: Row[], roundTripsPerFlow: number | undefined) {
  const find = (scenario: string, target: Target = 'Assent') => findRow(rows, scenario, target);
  const versus = (scenario: string) => {
    const ours = find(scenario);
    const bare = find(scenario, 'bare engine');
    return ours && bare
      ? { ours, bare, throughput: ours.requestsPerSecond / bare.requestsPerSecond, p99: ours.p99 / Math.max(bare.p99, 1) }
      : undefined;
  };
  const atLeast = (compared: ReturnType<typeof versus>, least: number, p99?: number) =>
    verdict(compared && compared.throughput >= least && (p99 === undefined || compared.p99 <= p99));
  const flows = versus(COMPLETE_FLOWS);
  const storedFlows = versus(flowsOverStoredData());
  const introspection = versus(CONSENT_BOUND);
  const mtls = versus(CC_MTLS);
  const pkjwt = versus('client_credentials, private_key_jwt');
  const par = versus('PAR with signed request object');
  const small = find(scaleScenario(SCALE_SMALL, SCALE_CONSENTS_SMALL));
  const large = find(scaleScenario(SCALE_LARGE, SCALE_CONSENTS_LARGE));
  const scaleRatio = small && large ? large.p50 / Math.max(small.p50, 0.001) : undefined;
  const maxRss = Math.max(...rows.filter((row) => row.target === 'Assent' && !row.scenario.endsWith('processes')).map((row) => row.rssMiB));
  const postgresPerFlow = flows?.ours.databaseCpuMsPerRequest;
  const capacity = cdrCapacitySummary(cdrMix(rows));
  const noKeepAlive = perCoreScenarios.map(({ name, keycloakPerVcpu }) => {
    const compared = versus(name);
    const perCore = compared && 1000 / compared.ours.serverCpuMsPerRequest;
    return `| ${name}: measured side by side, ops per core beside Keycloak's per-vCPU figure | ${compared ? `${x(compared.throughput)}, p99 ${x(compared.p99)}; ${perCore!.toFixed(0)} per core (server process) + ${compared.ours.databaseCpuMsPerRequest === undefined ? 'unmeasured' : `${compared.ours.databaseCpuMsPerRequest.toFixed(2)} ms`} Postgres CPU per op; Keycloak: ${keycloakPerVcpu === undefined ? 'no published figure' : `${keycloakPerVcpu} per vCPU`}` : 'not measured'} | ${compared ? 'reported' : 'n/a'} |`;
  });
  return [
    '| target | measured | verdict |',
    '|---|---|---|',
    `| complete flows >= 0.8x the bare engine, p99 <= 2x | ${flows ? `${flows.ours.requestsPerSecond.toFixed(1)} vs ${flows.bare.requestsPerSecond.toFixed(1)} flows/s: ${x(flows.throughput)}, p99 ${x(flows.p99)}` : 'not measured'} | ${atLeast(flows, 0.8, 2)} |`,
    `| Postgres CPU per complete flow halved (<= ${(POSTGRES_MS_PER_FLOW_BEFORE / 2).toFixed(1)} ms; ${POSTGRES_MS_PER_FLOW_BEFORE} ms on 2026-12-07) | ${postgresPerFlow === undefined ? 'not measured' : `${postgresPerFlow.toFixed(1)} ms`} | ${verdict(postgresPerFlow === undefined ? undefined : postgresPerFlow <= POSTGRES_MS_PER_FLOW_BEFORE / 2)} |`,
    `| complete flows again >= 0.8x with ${SCALE_CONSENTS_LARGE.toLocaleString('en')} consents and ${SCALE_LARGE.toLocaleString('en')} tokens stored | ${storedFlows ? `${storedFlows.ours.requestsPerSecond.toFixed(1)} vs ${storedFlows.bare.requestsPerSecond.toFixed(1)} flows/s: ${x(storedFlows.throughput)}, p99 ${x(storedFlows.p99)}` : 'not measured'} | ${atLeast(storedFlows, 0.8)} |`,
    `| consent-bound introspection >= 0.9x, p99 <= 1.5x | ${introspection ? `${x(introspection.throughput)}, p99 ${x(introspection.p99)}` : 'not measured'} | ${atLeast(introspection, 0.9, 1.5)} |`,
    `| client_credentials, tls_client_auth >= 0.9x | ${mtls ? x(mtls.throughput) : 'not measured'} | ${atLeast(mtls, 0.9)} |`,
    `| client_credentials, private_key_jwt >= 0.9x | ${pkjwt ? x(pkjwt.throughput) : 'not measured'} | ${atLeast(pkjwt, 0.9)} |`,
    ...noKeepAlive,
    `| flat with data at ${SCALE_LARGE.toLocaleString('en')} stored tokens and ${SCALE_CONSENTS_LARGE.toLocaleString('en')} consents (p50 within 1.2x of ${SCALE_SMALL.toLocaleString('en')} and ${SCALE_CONSENTS_SMALL.toLocaleString('en')}), with the retention sweep running meanwhile | ${small && large ? `${small.p50} ms vs ${large.p50} ms (${x(scaleRatio)}); the sweep deleted ${small.sweptRows ?? 0} and ${large.sweptRows ?? 0} expired tokens in the measured windows` : 'not measured'} | ${verdict(scaleRatio === undefined ? undefined : scaleRatio <= 1.2)} |`,
    `| RSS under load <= 300 MiB per process | ${maxRss} MiB at most | ${verdict(maxRss <= 300)} |`,
    `| PAR answers without errors under load in both servers | ${par ? `${par.bare.errors} / ${par.bare.total} (bare engine), ${par.ours.errors} / ${par.ours.total} (Assent)` : 'not measured'} | ${verdict(par && par.bare.errors === 0 && par.ours.errors === 0)} |`,
    `| capacity statement against the CDR non-functional requirements (below) | ${capacity ? `${capacity.tps} TPS: ${capacity.assentCores.toFixed(1)} Assent cores, ${capacity.postgresCores?.toFixed(1) ?? 'unmeasured'} Postgres cores; p99 ${capacity.worstP99} ms against 1,000 ms` : 'not derived'} | ${verdict(capacity?.meetsLatency)} |`,
    `| (issue 13) database round trips per complete flow < 40 | ${roundTripsPerFlow?.toFixed(1) ?? 'no flow completed'} | ${verdict(roundTripsPerFlow === undefined ? undefined : roundTripsPerFlow < 40)} |`,
  ].join('\n');
}

/** How each scale's stored data was made: the clone's time and the size of what it stored. */
function cloneSection(clones: CloneReport[]) {
  return [
    '| stored tokens | of which expire during the run | consents | clone time | stored size |',
    '|---:|---:|---:|---:|---|',
    ...clones.map(
      (clone) =>
        `| ${clone.tokens.toLocaleString('en')} | ${clone.expiring.toLocaleString('en')} | ${clone.consents.toLocaleString('en')} | ${clone.seconds.toFixed(0)} s | ${clone.size} |`,
    ),
    '',
    `Cloned from one consent approved through the pages, in set-based statements of up to a million rows (bench/consent-bound.ts). The expiring tokens expire one after another over the ${SCALE_EXPIRY_SECONDS} s after their clone;`,
    `each scale's Assent process runs production's sweeps (expired oidc_model rows, due consents, orphan grants, ...: sweepOnce in src/server.ts) every ${SCALE_SWEEP_INTERVAL} s, and the load introspects live tokens only.`,
  ].join('\n');
}

/** CPU time of one argon2id verify with Assent's parameters, in this process: the median of 15. */
async function argon2VerifyMs() {
  const hash = await hashPassword('a password of the usual length');
  const times: number[] = [];
  for (let i = 0; i < 15; i += 1) {
    const before = process.cpuUsage();
    await verifyPassword(hash, 'a password of the usual length');
    const used = process.cpuUsage(before);
    times.push((used.user + used.system) / 1000);
  }
  return times.toSorted((a, b) => a - b)[7]!;
}

/**
 * Where the machine's CPU goes in one complete flow, and the flow rate the machine's cores allow at that
 * cost: flows are CPU-bound here (every core busy during the measured seconds), so the total per flow, not
 * the server's share alone, sets the ceiling.
 */
function flowBudget(rows: Row[], verifyMs: number, databaseSplit: { split: CpuSplit; flows: number } | undefined) {
  const cores = os.cpus().length;
  const flows = rows.filter((row) => row.scenario === COMPLETE_FLOWS);
  const total = (row: Row) => row.serverCpuMsPerRequest + (row.databaseCpuMsPerRequest ?? 0) + row.generatorCpuMsPerRequest;
  const budget = (cores * 1000) / 40;
  const generator = Math.min(...flows.map((row) => row.generatorCpuMsPerRequest));
  const bare = flows.find((row) => row.target === 'bare engine');
  return [
    `Process CPU over the measured seconds, per completed flow (ms), and the most flows per second the machine's ${cores} cores allow at that cost (${cores} x 1000 ms / total):`,
    '',
    '| server | server process | database | load generator | total | flows/s at full use of the cores | measured flows/s |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...flows.map(
      (row) =>
        `| ${row.target} | ${row.serverCpuMsPerRequest.toFixed(1)} | ${row.databaseCpuMsPerRequest?.toFixed(1) ?? 'none'} | ${row.generatorCpuMsPerRequest.toFixed(1)} | ${total(row).toFixed(1)} | ${((cores * 1000) / total(row)).toFixed(1)} | ${row.requestsPerSecond.toFixed(1)} |`,
    ),
    '',
    `One argon2id verify with Assent's parameters (OWASP: m=19 MiB, t=2, p=1) costs ${verifyMs.toFixed(1)} ms of CPU here (median of 15, in the load generator's process).`,
    `40 flows/s on ${cores} cores needs a whole flow, load generator included, in ${budget.toFixed(0)} ms of CPU: the verify takes ${verifyMs.toFixed(1)} and the load generator at least ${generator.toFixed(1)},`,
    `which leaves ${(budget - verifyMs - generator).toFixed(1)} ms for everything else the server and its database do in a flow${bare ? `; the bare engine, with no database, spends ${(bare.serverCpuMsPerRequest - verifyMs).toFixed(1)} ms beyond the verify` : ''}.`,
    ...(databaseSplit ? ['', databaseCpuSplit(databaseSplit.split, databaseSplit.flows)] : []),
  ].join('\n');
}

/** Assent's database column above, by kind of Postgres process (test/support/postgres-cluster.ts splitCpu). */
function databaseCpuSplit(split: CpuSplit, flows: number) {
  const kinds = [...PROCESS_KINDS, 'exited between samples, postmaster'] as const;
  return [
    "Assent's database CPU per completed flow (ms), by kind of Postgres process, and the processes of each kind started meanwhile:",
    '',
    `| ${kinds.join(' | ')} |`,
    `|${kinds.map(() => '---:').join('|')}|`,
    `| ${kinds.map((kind) => `${(split.ms[kind] / flows).toFixed(1)}${kind in split.started ? ` (${split.started[kind as keyof CpuSplit['started']]} started)` : ''}`).join(' | ')} |`,
  ].join('\n');
}

function roundTripTable(perFlow: { statement: string; perFlow: number }[]) {
  return [
    '| statement (its start) | per flow |',
    '|---|---:|',
    ...perFlow
      .slice(0, FLOWS_ONLY ? undefined : 20)
      .map((entry) => `| \`${entry.statement.replace(/\|/g, '\\|')}\` | ${entry.perFlow.toFixed(1)} |`),
  ].join('\n');
}

function profileSection(summary: ProfileSummary) {
  return [
    `Self time of the Assent process over the ${FLOWS_ONLY ? 'complete flows' : 'request scenarios, in a pass of its own after the measured runs'} (${(summary.totalMs / 1000).toFixed(0)} s profiled with \`--cpu-prof\`, idle and module loading excluded), by area:`,
    '',
    '| area | share |',
    '|---|---:|',
    ...summary.areas.map((entry) => `| ${entry.name} | ${percent(entry.share)} |`),
    '',
    'Hottest functions:',
    '',
    '| function | share |',
    '|---|---:|',
    ...summary.functions.map((entry) => `| \`${entry.name.replace(/\|/g, '\\|')}\` | ${percent(entry.share)} |`),
    '',
    'Who the socket writes (`writev`, `writeUtf8String`, `writeBuffer`) are for, by the nearest caller that says (share of all samples):',
    '',
    '| writer | share |',
    '|---|---:|',
    ...summary.writers.map((entry) => `| ${entry.name} | ${percent(entry.share)} |`),
  ].join('\n');
}

interface RunContext {
  /** Starts a server process; `environment` overrides the run's (another DATABASE_URL). */
  start: (target: Target, flags?: string[], environment?: Record<string, string>) => Promise<ServerProcess>;
  /** Another migrated database in the run's cluster (dropped at the end of the run). */
  newDatabase: () => Promise<{ db: Db; url: string }>;
  db: Db;
  clients: Clients;
  context: { ca: string; customers: TestCustomer[]; bareCustomers: TestCustomer[] };
  /** Tokens one Assent process issued, for the later introspection runs. */
  tokens: string[];
  bench: ConsentBench;
  /** Node flags of the flows' Assent process (the CPU profile when flows run alone). */
  flowFlags: string[];
  /** Splits the database's CPU by kind of process, when the bench runs the cluster. */
  splitDatabaseCpu?: () => () => CpuSplit;
}

/** Assent alone: complete flows (and their database round trips), several processes, stored-token scale. */
async function flowsProcessesAndScale(run: RunContext) {
  const rows: Row[] = [];
  log('complete flows (bare engine, then Assent):');
  const verifyMs = await argon2VerifyMs();
  const bare = await run.start('bare engine');
  rows.push(await completeFlows(bare, 'bare engine', run.clients, { ca: run.context.ca, customers: run.context.bareCustomers }));
  await bare.stop();
  // The request scenarios before left tens of thousands of rows behind: vacuumed and checkpointed now, so
  // that autovacuum and the checkpointer do not work through them during the flows' measured seconds
  // (they would count as the flows' database CPU, and take the machine's cores from the flows).
  await sql`vacuum analyze`.execute(run.db);
  await sql`checkpoint`.execute(run.db);
  const server = await run.start('Assent', run.flowFlags);
  // Counted over the measured flows only: the warm-up's statements and CPU are not theirs.
  let roundTripsBefore: Record<string, number> = {};
  let endSplit: (() => CpuSplit) | undefined;
  const flows = await completeFlows(server, 'Assent', run.clients, run.context, async () => {
    roundTripsBefore = await server.roundTrips();
    endSplit = run.splitDatabaseCpu?.();
  });
  const split = endSplit?.();
  const roundTripsAfter = await server.roundTrips();
  rows.push(flows);
  const completedFlows = Math.max(flows.total - flows.errors, 1);
  const databaseSplit = split && { split, flows: completedFlows };
  // Background work (sweeps, key refresh) in the same seconds counts too: a slight overstatement.
  const perFlow = Object.entries(roundTripsAfter)
    .map(([statement, count]) => ({ statement, perFlow: (count - (roundTripsBefore[statement] ?? 0)) / completedFlows }))
    .filter((entry) => entry.perFlow > 0)
    .toSorted((a, b) => b.perFlow - a.perFlow);
  const roundTripsPerFlow = flows.total > flows.errors ? perFlow.reduce((sum, entry) => sum + entry.perFlow, 0) : undefined;
  log(`  database round trips per flow: ${roundTripsPerFlow?.toFixed(1) ?? 'no flow completed'}`);
  if (FLOWS_ONLY) {
    await server.stop();
    return { rows, roundTripsPerFlow, perFlow, verifyMs, databaseSplit };
  }

  if (PROCESSES > 1) {
    log(`1 to ${PROCESSES} processes:`);
    const processes = [server];
    for (let count = 1; count <= PROCESSES; count += 1) {
      if (count > 1) processes.push(await run.start('Assent'));
      rows.push(...(await severalProcesses(processes, run.clients, run.tokens)));
    }
    await Promise.all(processes.slice(1).map((other) => other.stop()));
  }
  await server.stop();
  log('scale:');
  const scale = await scaleRun(run.bench, run);
  rows.push(...scale.rows);
  // The flows again, now that the run's database holds the large data run's tokens and consents (and the
  // bare engine again beside them, for a ratio in the same minutes).
  log('complete flows over the large stored data (bare engine, then Assent):');
  const storedFlows = flowsOverStoredData();
  const bareAgain = await run.start('bare engine');
  rows.push({
    ...(await completeFlows(bareAgain, 'bare engine', run.clients, { ca: run.context.ca, customers: run.context.bareCustomers })),
    scenario: storedFlows,
  });
  await bareAgain.stop();
  await sql`checkpoint`.execute(run.db);
  const serverAgain = await run.start('Assent');
  rows.push({ ...(await completeFlows(serverAgain, 'Assent', run.clients, run.context)), scenario: storedFlows });
  await serverAgain.stop();
  return { rows, roundTripsPerFlow, perFlow, verifyMs, databaseSplit, clones: scale.clones };
}

/** BENCH_SCALE_ONLY: the data run on an Assent process of its own. */
async function scaleOnly(run: Pick<RunContext, 'start' | 'newDatabase'>, bench: ConsentBench) {
  log('scale:');
  const { rows, clones } = await scaleRun(bench, run);
  return { rows, roundTripsPerFlow: undefined, perFlow: [], clones };
}

async function main() {
  const loadBefore = os.loadavg()[0]!;
  // Default durability (fsync, synchronous commit), as a bank runs it. shared_buffers 1 GB holds the
  // small data run whole but not the large one (a million tokens take about 1.4 GB of oidc_model): its
  // introspections read about 3 blocks each from the OS page cache.
  const cluster = process.env.DATABASE_URL
    ? undefined
    : await startPostgresCluster(['fsync=on', 'synchronous_commit=on', 'full_page_writes=on', 'shared_buffers=1GB']);
  const adminUrl = process.env.DATABASE_URL ?? cluster!.url;
  const name = `assent_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const pgVersion = (await admin.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
  const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'assent-bench-'));
  // The harness's own pool: dropping the database at the end cuts whatever connection it still holds.
  const connections = new Pool({ connectionString: databaseUrl, max: 4 });
  connections.on('error', (error) => log(`bench database connection closed: ${error.message}`));
  const db: Db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: connections }) });
  const started: ServerProcess[] = [];
  const start = async (target: Target, flags: string[] = [], environment: Record<string, string> = {}) => {
    const server = await startServer(target, { ...env, ...environment }, flags);
    if (cluster && target === 'Assent') server.databaseCpuMs = cluster.cpuMs;
    started.push(server);
    return server;
  };
  const databases: { name: string; db: Db }[] = [];
  const newDatabase = async () => {
    const another = `${name}_${databases.length + 1}`;
    await admin.query(`create database ${another}`);
    const url = Object.assign(new URL(adminUrl), { pathname: `/${another}` }).toString();
    const anotherPool = new Pool({ connectionString: url, max: 4 });
    anotherPool.on('error', (error) => log(`bench database connection closed: ${error.message}`));
    const anotherDb: Db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: anotherPool }) });
    databases.push({ name: another, db: anotherDb });
    await migrateToLatest(anotherDb);
    return { db: anotherDb, url };
  };
  let env: Record<string, string> = {};
  try {
    await migrateToLatest(db);
    const pki = await ensureDevPki(dataDir);
    const clients = await benchClients(pki.ca);
    const clientsFile = path.join(dataDir, 'bench-clients.json');
    await writeFile(clientsFile, JSON.stringify([clients.mtls.metadata, clients.pkjwt.metadata]));
    const customers: TestCustomer[] = [];
    for (let i = 0; i < BENCH_CUSTOMERS; i += 1) customers.push(await createTestCustomer(db));
    const bareCustomers = await bareEngineCustomers(BARE_CUSTOMERS);
    const bareCustomersFile = path.join(dataDir, 'bench-bare-customers.json');
    await writeFile(bareCustomersFile, JSON.stringify(bareCustomers.stored));
    env = {
      DATABASE_URL: databaseUrl,
      DATA_DIR: dataDir,
      DEV_MODE: 'true',
      SEED_DEMO: 'false',
      PORT: '0',
      ADMIN_PORT: '0',
      LOG_LEVEL: 'warn',
      ACCESS_TOKEN_TTL: '3600',
      BENCH_CLIENTS_FILE: clientsFile,
      BENCH_BARE_CUSTOMERS_FILE: bareCustomersFile,
      RATE_LIMIT_LOGIN: 'off',
      RATE_LIMIT_OTP: 'off',
      RATE_LIMIT_PAR: 'off',
      RATE_LIMIT_TOKEN: 'off',
      RATE_LIMIT_REGISTRATION: 'off',
    };
    const context = { ca: pki.ca.certPem, customers, bareCustomers: bareCustomers.signingIn };
    const rows: Row[] = [];

    const profileDirectory = PROFILE_DIR ?? (await mkdtemp(path.join(os.tmpdir(), 'assent-prof-')));
    const profiling = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDirectory}`] : [];
    const tokens: string[] = [];
    const bench: ConsentBench = { db, ca: pki.ca };
    let profile: ProfileSummary | undefined;
    if (!FLOWS_ONLY && !SCALE_ONLY) {
      log('side by side (bare engine, then Assent, per scenario):');
      const bare = await start('bare engine');
      const assent = await start('Assent');
      const measured = await sideBySide({ 'bare engine': bare, Assent: assent }, clients, context.ca, bench);
      rows.push(...measured.rows);
      tokens.push(...measured.tokens);
      await bare.stop();
      await assent.stop();
      // The profiler costs the profiled process a good share of its CPU, so the measured runs go without
      // it and the profile comes from a pass of its own over the same scenarios, Assent only.
      if (PROFILE) {
        log('profile (Assent under --cpu-prof, not measured):');
        const profiled = await start('Assent', profiling);
        await sideBySide({ Assent: profiled }, clients, context.ca, bench, 1);
        await profiled.stop();
        profile = await summarizeProfiles(profileDirectory);
      }
    }

    const rest = QUICK
      ? undefined
      : SCALE_ONLY
        ? await scaleOnly({ start, newDatabase }, bench)
        : await flowsProcessesAndScale({
            start,
            newDatabase,
            db,
            clients,
            context,
            tokens,
            bench,
            flowFlags: FLOWS_ONLY ? profiling : [],
            splitDatabaseCpu: cluster?.splitCpu,
          });
    if (FLOWS_ONLY && PROFILE) profile = await summarizeProfiles(profileDirectory);
    if (!PROFILE_DIR) await rm(profileDirectory, { recursive: true, force: true });
    rows.push(...(rest?.rows ?? []));
    const roundTripsPerFlow = rest?.roundTripsPerFlow;
    const perFlow = rest?.perFlow ?? [];

    const cpus = os.cpus();
    const report = [
      '# Benchmark results',
      '',
      `Run ${new Date().toISOString()} with \`npm run bench\` on ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM,`,
      `${os.type()} ${os.release()}, Node ${process.version}, Postgres ${pgVersion} on the same machine (${cluster ? 'throwaway cluster with default durability: fsync and synchronous_commit on, shared_buffers 1GB' : 'the server in DATABASE_URL'}).`,
      `The machine is shared with other work: 1-minute load average ${loadBefore.toFixed(1)} at the start and ${os.loadavg()[0]!.toFixed(1)} at the end`,
      '(2 cores), so absolute throughput and latency vary between runs; the ratios to the bare engine, measured back to back with each scenario, hold better.',
      "The bare engine is plain oidc-provider with Assent's FAPI settings (`fapiConfiguration` in src/oidc/provider.ts), its in-memory adapter and the bench clients",
      `as static clients, in its own process (bench/bare-engine.ts). One Assent process unless the scenario says otherwise; the load generator (autocannon, keep-alive mTLS; a new connection with a full mTLS handshake per request in the scenarios that say so, bench/fresh-connections.ts) in another. ${DURATION} s per scenario, ${CONNECTIONS} connections`,
      `for introspection, ${REQUEST_CONNECTIONS} for the other request scenarios (each after a ${WARMUP} s unmeasured warm-up), ${FLOW_CONCURRENCY} concurrent customers for flows (after ${FLOW_WARMUP} s of unmeasured flows). Throughput counts 2xx answers only. Rate limits off, LOG_LEVEL=warn.`,
      `Each side-by-side scenario is measured in ${ROUNDS} alternating rounds (bare engine, Assent, ...); each target's row is its median round by throughput. The data run has a database and an Assent process per scale, measured in ${SCALE_ROUNDS} alternating rounds; each scale's row is its median round (by p50).`,
      '',
      table(rows),
      '',
      '## Targets (issue 32)',
      '',
      targets(rows, roundTripsPerFlow),
      ...(perCoreScenarios.some((scenario) => findRow(rows, scenario.name))
        ? [
            '',
            "## A new TLS connection per request: throughput per core beside Keycloak's published figures",
            '',
            perCoreSection(rows, perCoreScenarios),
          ]
        : []),
      '',
      '## Capacity for the Australian CDR non-functional requirements',
      '',
      cdrCapacitySection(cdrMix(rows)),
      ...(rest?.clones ? ['', '## Stored data of the data run', '', cloneSection(rest.clones)] : []),
      ...(rows.some((row) => row.scenario.endsWith(processLabel(2)))
        ? ['', '## Several processes over one Postgres', '', scaling(rows)]
        : []),
      ...(rest && 'verifyMs' in rest ? ['', '## CPU per complete flow', '', flowBudget(rows, rest.verifyMs, rest.databaseSplit)] : []),
      ...(perFlow.length > 0 ? ['', '## Database round trips per complete flow, by statement', '', roundTripTable(perFlow)] : []),
      ...(profile ? ['', '## Where the time goes', '', profileSection(profile)] : []),
      '',
      'The same summary for the hot path before issue 13, and what the socket writes were: bench/profile-before-issue-13.md.',
      '',
    ].join('\n');
    if (OUTPUT) await writeFile(OUTPUT, report);
    process.stdout.write(`${report}\n${OUTPUT ? `written to ${OUTPUT}` : 'not written (BENCH_OUTPUT names a file)'}\n`);
  } finally {
    await Promise.all(started.map((server) => (server.child.exitCode === null ? server.stop() : undefined)));
    await db.destroy();
    await admin.query(`drop database if exists ${name} with (force)`);
    for (const another of databases) {
      await another.db.destroy();
      await admin.query(`drop database if exists ${another.name} with (force)`);
    }
    await admin.end();
    cluster?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();

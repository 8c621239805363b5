import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { Client } from 'pg';
import { Agent, fetch } from 'undici';
import { createTestCustomer, type TestCustomer } from '../test/support/customers.ts';
import { connectDatabase, type Db } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { ensureDevPki } from '../src/http/dev-pki.ts';
import { startPostgresCluster } from '../test/support/postgres-cluster.ts';
import { type BenchClient, benchClients, clientAssertion, pool, signedRequestObject } from './fixtures.ts';
import { runFlows } from './flows.ts';
import { type LoadResult, runLoad } from './load.ts';
import { summarizeProfiles, type ProfileSummary } from './profile-summary.ts';
import { type ServerProcess, startServer } from './server-process.ts';

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
// Each TOTP code is accepted once: a customer manages about three flows per 30 s, so flows rotate through many.
const BENCH_CUSTOMERS = setting('BENCH_CUSTOMERS', 120);
const SCALE_SMALL = setting('BENCH_SCALE_SMALL', 10_000);
const SCALE_LARGE = setting('BENCH_SCALE_LARGE', 1_000_000);
// Below the in-memory adapter's 1,000-entry LRU, so the baseline introspects live tokens too.
const PRE_ISSUED = setting('BENCH_PRE_ISSUED', 500);
const PROFILE = process.env.BENCH_PROFILE !== '0';
const PROCESSES = setting('BENCH_PROCESSES', 2);
const OUTPUT = process.env.BENCH_OUTPUT ?? fileURLToPath(new URL('./results.md', import.meta.url));

type Store = 'postgres' | 'memory';
interface Row extends LoadResult {
  scenario: string;
  store: Store;
  rssMiB: number;
  unit: 'req/s' | 'flows/s';
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const form = (values: Record<string, string>) => new URLSearchParams(values).toString();
const pick = <T>(values: T[]) => values[Math.floor(Math.random() * values.length)]!;

async function issueTokens(issuer: string, agent: Agent, client: BenchClient, count: number): Promise<string[]> {
  const tokens: string[] = [];
  const body = form({ grant_type: 'client_credentials', scope: 'accounts', client_id: client.clientId });
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (tokens.length < count) {
        const response = await fetch(`${issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, dispatcher: agent });
        if (response.status !== 200) throw new Error(`token pre-issue failed: ${response.status} ${await response.text()}`);
        tokens.push(((await response.json()) as { access_token: string }).access_token);
      }
    }),
  );
  return tokens;
}

/** Stored ClientCredentials tokens cloned from a real one, ids derived from a counter so the load can name them. */
const scaleTokenId = (i: number) => createHash('sha256').update(`bench${i}`).digest('base64url');

async function cloneTokens(db: Db, template: string, from: number, to: number) {
  for (let start = from; start <= to; start += 100_000) {
    const end = Math.min(to, start + 99_999);
    await sql`
      insert into oidc_model (model, id, payload, grant_id, expires_at)
      select t.model, ids.id, jsonb_set(t.payload, '{jti}', to_jsonb(ids.id)), t.grant_id, t.expires_at
      from oidc_model t,
           (select translate(rtrim(encode(sha256(('bench' || i)::bytea), 'base64'), '='), '+/', '-_') as id
              from generate_series(${start}::int, ${end}::int) i) ids
      where t.model = 'ClientCredentials' and t.id = ${template}
      on conflict do nothing`.execute(db);
  }
  await sql`vacuum analyze oidc_model`.execute(db);
}

async function scenarios(server: ServerProcess, store: Store, clients: Awaited<ReturnType<typeof benchClients>>, ctx: { ca: string; customers: TestCustomer[] }) {
  const { issuer } = server;
  const rows: Row[] = [];
  const tppAgent = new Agent({ connect: { ca: ctx.ca, cert: clients.mtls.certificate.certPem, key: clients.mtls.certificate.keyPem } });
  const record = (scenario: string, result: LoadResult, unit: Row['unit'] = 'req/s') => {
    const row = { scenario, store, rssMiB: server.rssMiB(), unit, ...result };
    rows.push(row);
    log(`  ${store.padEnd(8)} ${scenario.padEnd(44)} ${result.requestsPerSecond.toFixed(0).padStart(6)} ${unit}  p50 ${result.p50} ms  p99 ${result.p99} ms  errors ${result.errors}  cpu ${result.serverCpuMsPerRequest.toFixed(2)} ms/op`);
  };

  const tokens = await issueTokens(issuer, tppAgent, clients.mtls, PRE_ISSUED);
  record('introspection (tls_client_auth, own token)', await runLoad({
    url: `${issuer}/token/introspection`, connections: CONNECTIONS, durationSeconds: DURATION, warmupSeconds: WARMUP, serverCpuMs: server.cpuMs, certificate: clients.mtls.certificate,
    body: () => form({ token: pick(tokens), client_id: clients.mtls.clientId }),
  }));

  const ccBody = form({ grant_type: 'client_credentials', scope: 'accounts', client_id: clients.mtls.clientId });
  record('client_credentials, tls_client_auth', await runLoad({
    url: `${issuer}/token`, connections: REQUEST_CONNECTIONS, durationSeconds: DURATION, warmupSeconds: WARMUP, serverCpuMs: server.cpuMs, certificate: clients.mtls.certificate, body: () => ccBody,
  }));

  const assertions = await pool((DURATION + WARMUP) * 1500, () => clientAssertion(clients.pkjwt, issuer));
  record('client_credentials, private_key_jwt', await runLoad({
    url: `${issuer}/token`, connections: REQUEST_CONNECTIONS, durationSeconds: DURATION, warmupSeconds: WARMUP, serverCpuMs: server.cpuMs, certificate: clients.pkjwt.certificate,
    body: () => form({
      grant_type: 'client_credentials', scope: 'accounts', client_id: clients.pkjwt.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertions.pop() ?? 'exhausted',
    }),
  }));

  const requests = await pool((DURATION + WARMUP) * 1200, () => signedRequestObject(clients.mtls, issuer));
  record('PAR with signed request object', await runLoad({
    url: `${issuer}/request`, connections: REQUEST_CONNECTIONS, durationSeconds: DURATION, warmupSeconds: WARMUP, serverCpuMs: server.cpuMs, certificate: clients.mtls.certificate,
    body: () => form({ client_id: clients.mtls.clientId, request: requests.pop()?.request ?? 'exhausted' }),
  }));

  const flows = await runFlows({
    issuer, client: clients.mtls, tppAgent, browserAgent: new Agent({ connect: { ca: ctx.ca } }),
    customers: ctx.customers, concurrency: FLOW_CONCURRENCY, durationSeconds: DURATION, serverCpuMs: server.cpuMs,
  });
  if (flows.firstError) log(`  first flow error: ${flows.firstError}`);
  record('complete flows (PAR, login, consent, token)', flows, 'flows/s');
  await tppAgent.close();
  return { rows, tokens };
}

/** The two throughput targets again, with the connections spread over several processes on one database. */
async function severalProcesses(processes: ServerProcess[], clients: Awaited<ReturnType<typeof benchClients>>, tokens: string[]) {
  const urls = (route: string) => processes.map((server) => `${server.issuer}${route}`);
  const serverCpuMs = () => processes.reduce((sum, server) => sum + server.cpuMs(), 0);
  const rss = () => processes.reduce((sum, server) => sum + server.rssMiB(), 0);
  const label = `${processes.length} processes`;
  const introspection = await runLoad({
    url: urls('/token/introspection'), connections: CONNECTIONS, durationSeconds: DURATION, warmupSeconds: WARMUP, serverCpuMs, certificate: clients.mtls.certificate,
    body: () => form({ token: pick(tokens), client_id: clients.mtls.clientId }),
  });
  const ccBody = form({ grant_type: 'client_credentials', scope: 'accounts', client_id: clients.mtls.clientId });
  const cc = await runLoad({
    url: urls('/token'), connections: REQUEST_CONNECTIONS, durationSeconds: DURATION, warmupSeconds: WARMUP, serverCpuMs, certificate: clients.mtls.certificate, body: () => ccBody,
  });
  const rows: Row[] = [
    { scenario: `introspection (tls_client_auth, own token), ${label}`, store: 'postgres', rssMiB: rss(), unit: 'req/s', ...introspection },
    { scenario: `client_credentials, tls_client_auth, ${label}`, store: 'postgres', rssMiB: rss(), unit: 'req/s', ...cc },
  ];
  for (const row of rows) log(`  ${row.scenario}: ${row.requestsPerSecond.toFixed(0)} req/s  p50 ${row.p50} ms  p99 ${row.p99} ms  errors ${row.errors}`);
  return rows;
}

async function scaleRun(server: ServerProcess, db: Db, clients: Awaited<ReturnType<typeof benchClients>>, template: string) {
  const rows: Row[] = [];
  for (const size of [SCALE_SMALL, SCALE_LARGE]) {
    const started = Date.now();
    await cloneTokens(db, template, 1, size);
    log(`  ${size} stored tokens in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const result = await runLoad({
      url: `${server.issuer}/token/introspection`, connections: CONNECTIONS, durationSeconds: DURATION, warmupSeconds: WARMUP, serverCpuMs: server.cpuMs, certificate: clients.mtls.certificate,
      body: () => form({ token: scaleTokenId(1 + Math.floor(Math.random() * size)), client_id: clients.mtls.clientId }),
    });
    rows.push({ scenario: `introspection, ${size.toLocaleString('en')} stored tokens`, store: 'postgres', rssMiB: server.rssMiB(), unit: 'req/s', ...result });
    log(`  ${size} tokens: ${result.requestsPerSecond.toFixed(0)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  errors ${result.errors}`);
  }
  return rows;
}

function table(rows: Row[]) {
  const memory = new Map(rows.filter((row) => row.store === 'memory').map((row) => [row.scenario, row]));
  const lines = [
    '| scenario | store | throughput | p50 ms | p99 ms | errors / total | RSS MiB | server CPU ms / op | ours / in-memory |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const baseline = row.store === 'postgres' ? memory.get(row.scenario) : undefined;
    const ratio = baseline ? (row.requestsPerSecond / baseline.requestsPerSecond).toFixed(2) : '';
    lines.push(`| ${row.scenario} | ${row.store} | ${row.requestsPerSecond.toFixed(row.unit === 'flows/s' ? 1 : 0)} ${row.unit} | ${row.p50} | ${row.p99} | ${row.errors} / ${row.total} | ${row.rssMiB} | ${row.serverCpuMsPerRequest.toFixed(2)} | ${ratio} |`);
  }
  return lines.join('\n');
}

const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'met' : 'missed');
const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

function targets(rows: Row[]) {
  const find = (scenario: string) => rows.find((row) => row.store === 'postgres' && row.scenario.startsWith(scenario));
  // One process or several, whichever went faster.
  const best = (scenario: string) =>
    rows.filter((row) => row.store === 'postgres' && row.scenario.startsWith(scenario)).toSorted((a, b) => b.requestsPerSecond - a.requestsPerSecond)[0];
  const processes = (row: Row | undefined) => (row?.scenario.endsWith('processes') ? ` (${row.scenario.split(', ').at(-1)})` : ' (1 process)');
  const introspection = best('introspection (');
  const cc = best('client_credentials, tls_client_auth');
  const flows = find('complete flows');
  const small = find(`introspection, ${SCALE_SMALL.toLocaleString('en')}`);
  const large = find(`introspection, ${SCALE_LARGE.toLocaleString('en')}`);
  const scaleRatio = small && large ? large.p50 / Math.max(small.p50, 0.001) : undefined;
  return [
    '| target | measured | verdict |',
    '|---|---|---|',
    `| introspection >= 5,200 req/s, p99 < 25 ms at ${CONNECTIONS} connections | ${introspection?.requestsPerSecond.toFixed(0)} req/s, p99 ${introspection?.p99} ms${processes(introspection)} | ${verdict(introspection && introspection.requestsPerSecond >= 5200 && introspection.p99 < 25)} |`,
    `| client_credentials with tls_client_auth >= 1,000 req/s | ${cc?.requestsPerSecond.toFixed(0)} req/s${processes(cc)} | ${verdict(cc && cc.requestsPerSecond >= 1000)} |`,
    `| complete flows >= 50/s | ${flows?.requestsPerSecond.toFixed(1)} flows/s | ${verdict(flows && flows.requestsPerSecond >= 50)} |`,
    `| introspection p50 with ${SCALE_LARGE.toLocaleString('en')} stored tokens <= 1.2x of ${SCALE_SMALL.toLocaleString('en')} | ${small?.p50} ms vs ${large?.p50} ms (${scaleRatio?.toFixed(2)}x) | ${verdict(scaleRatio === undefined ? undefined : scaleRatio <= 1.2)} |`,
  ].join('\n');
}

function profileSection(summary: ProfileSummary) {
  return [
    `Self time of the server process (${(summary.totalMs / 1000).toFixed(0)} s profiled with \`--cpu-prof\`, idle excluded), by area:`,
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
  ].join('\n');
}

async function main() {
  const loadBefore = os.loadavg()[0]!;
  // shared_buffers sized so a million stored tokens stay in Postgres' cache, as a production server's would.
  const cluster = process.env.DATABASE_URL ? undefined : await startPostgresCluster(['shared_buffers=1GB']);
  const adminUrl = process.env.DATABASE_URL ?? cluster!.url;
  const name = `assent_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const pgVersion = (await admin.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
  const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'assent-bench-'));
  const db = await connectDatabase({ databaseUrl, dataDir });
  const servers: ServerProcess[] = [];
  try {
    await migrateToLatest(db);
    const pki = await ensureDevPki(dataDir);
    const clients = await benchClients(pki.ca);
    const clientsFile = path.join(dataDir, 'bench-clients.json');
    await writeFile(clientsFile, JSON.stringify([clients.mtls.metadata, clients.pkjwt.metadata]));
    const customers: TestCustomer[] = [];
    for (let i = 0; i < BENCH_CUSTOMERS; i += 1) customers.push(await createTestCustomer(db));
    const env = {
      DATABASE_URL: databaseUrl, DATA_DIR: dataDir, DEV_MODE: 'true', SEED_DEMO: 'false', PORT: '0', ADMIN_PORT: '0', LOG_LEVEL: 'warn',
      ACCESS_TOKEN_TTL: '3600', BENCH_CLIENTS_FILE: clientsFile,
      RATE_LIMIT_LOGIN: 'off', RATE_LIMIT_OTP: 'off', RATE_LIMIT_PAR: 'off', RATE_LIMIT_TOKEN: 'off', RATE_LIMIT_REGISTRATION: 'off',
    };
    const context = { ca: pki.ca.certPem, customers };
    const rows: Row[] = [];

    for (const store of ['postgres', 'memory'] as const) {
      log(`${store}:`);
      const server = await startServer({ ...env, BENCH_STORE: store });
      servers.push(server);
      const { rows: measured, tokens } = await scenarios(server, store, clients, context);
      rows.push(...measured);
      if (store === 'postgres') {
        if (PROCESSES > 1) {
          log(`${PROCESSES} processes:`);
          const others = await Promise.all(Array.from({ length: PROCESSES - 1 }, () => startServer({ ...env, BENCH_STORE: store })));
          servers.push(...others);
          rows.push(...(await severalProcesses([server, ...others], clients, tokens)));
          await Promise.all(others.map((other) => other.stop()));
        }
        log('scale:');
        rows.push(...(await scaleRun(server, db, clients, tokens[0]!)));
      }
      await server.stop();
    }

    let profile: ProfileSummary | undefined;
    if (PROFILE) {
      log('profile (postgres, --cpu-prof):');
      const directory = await mkdtemp(path.join(os.tmpdir(), 'assent-prof-'));
      const server = await startServer({ ...env, BENCH_STORE: 'postgres' }, ['--cpu-prof', `--cpu-prof-dir=${directory}`]);
      servers.push(server);
      await scenarios(server, 'postgres', clients, context);
      await server.stop();
      profile = await summarizeProfiles(directory);
      await rm(directory, { recursive: true, force: true });
    }

    const cpus = os.cpus();
    const report = [
      '# Benchmark results',
      '',
      `Run ${new Date().toISOString()} with \`npm run bench\` on ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM,`,
      `${os.type()} ${os.release()}, Node ${process.version}, Postgres ${pgVersion} on the same machine (throwaway cluster: fsync off, shared_buffers 1GB).`,
      `The machine is shared with other work: 1-minute load average ${loadBefore.toFixed(1)} at the start and ${os.loadavg()[0]!.toFixed(1)} at the end`,
      '(2 cores), so throughput and latency vary between runs; server CPU ms per operation varies least.',
      `One Assent process; load generator in another process on the same cores. ${DURATION} s per scenario, ${CONNECTIONS} connections`,
      `for introspection, ${REQUEST_CONNECTIONS} for the other request scenarios (each after a ${WARMUP} s unmeasured warm-up), ${FLOW_CONCURRENCY} concurrent customers for flows. Rate limits off, LOG_LEVEL=warn.`,
      '',
      table(rows),
      '',
      '## Targets',
      '',
      targets(rows),
      ...(profile ? ['', '## Where the time goes', '', profileSection(profile)] : []),
      '',
    ].join('\n');
    await writeFile(OUTPUT, report);
    process.stdout.write(`${report}\nwritten to ${OUTPUT}\n`);
  } finally {
    await Promise.all(servers.map((server) => (server.child.exitCode === null ? server.stop() : undefined)));
    await db.destroy();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
    cluster?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

/** Measured on both servers, back to back (the bare engine's complete flow runs on the least pages it needs: bench/bare-pages.ts). */
const SIDE_BY_SIDE = [
  'introspection of a consent-bound token (resource server, tls_client_auth)',
  'introspection (tls_client_auth, own token)',
  'client_credentials, tls_client_auth',
  'client_credentials, private_key_jwt',
  'PAR with signed request object',
  'introspection (tls_client_auth, own token), new TLS connection per request',
  'client_credentials, tls_client_auth, new TLS connection per request',
  'complete flows (PAR, login, one-time code, consent, token)',
  'complete flows (PAR, login, one-time code, consent, token), 500 tokens and 50 consents stored',
];

test('the benchmark harness runs every scenario end to end with a tiny load (no timing asserted)', async () => {
  const folder = await mkdtemp(path.join(tmpdir(), 'assent-bench-smoke-'));
  const output = path.join(folder, 'results.md');
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['bench/run.ts'], {
      env: {
        ...process.env,
        BENCH_OUTPUT: output,
        BENCH_DURATION: '2',
        BENCH_WARMUP: '0',
        BENCH_FLOW_WARMUP: '1',
        BENCH_CONNECTIONS: '2',
        BENCH_REQUEST_CONNECTIONS: '2',
        BENCH_FLOW_CONCURRENCY: '1',
        BENCH_CUSTOMERS: '60',
        BENCH_BARE_CUSTOMERS: '60',
        BENCH_PRE_ISSUED: '20',
        BENCH_SCALE_SMALL: '100',
        BENCH_SCALE_LARGE: '500',
        BENCH_SCALE_CONSENTS_SMALL: '20',
        BENCH_SCALE_CONSENTS_LARGE: '50',
        BENCH_SCALE_ROUNDS: '1',
        BENCH_CONSENT_TOKENS: '2',
        BENCH_PROFILE: '0',
        BENCH_ROUNDS: '1',
        BENCH_PROCESSES: '2',
      },
      timeout: 240_000,
    });
    const report = await readFile(output, 'utf8');
    const rows = report.split('\n').filter((line) => /^\| .+ \| (bare engine|Assent) \|/.test(line));
    const measured = (scenario: string, server: string) => {
      const row = rows.find((line) => line.startsWith(`| ${scenario} | ${server} |`));
      assert.ok(row, `${scenario} on ${server} is reported`);
      const [errors, total] = /\| (\d+) \/ (\d+) \|/.exec(row)!.slice(1).map(Number) as [number, number];
      assert.equal(errors, 0, `${scenario} on ${server} ran without errors:\n${stdout}`);
      assert.ok(total > 0, `${scenario} on ${server} completed requests`);
      return row.split(' | ');
    };
    for (const scenario of SIDE_BY_SIDE) {
      measured(scenario, 'bare engine');
      const ratio = measured(scenario, 'Assent').at(-2);
      assert.match(ratio ?? '', /^\d+\.\d\d$/, `${scenario}: Assent's throughput as a ratio to the bare engine's`);
    }
    measured('consent-bound introspection, 100 stored tokens, 20 consents', 'Assent');
    measured('consent-bound introspection, 500 stored tokens, 50 consents', 'Assent');
    for (const processes of ['1 process', '2 processes']) measured(`client_credentials, tls_client_auth, ${processes}`, 'Assent');
    assert.match(report, /\| client_credentials, tls_client_auth \| 2 \| \d+ req\/s \| \d+\.\d\d \|/, 'two processes beside one');
    assert.match(report, /## Targets \(issue 32\)/);
    assert.match(report, /\| \(issue 13\) database round trips per complete flow < 40 \| \d+\.\d \|/, 'round trips per flow are counted');
    // Every target of issue 32 has its row, with a measured value and a verdict.
    for (const target of [
      /\| complete flows >= 0\.8x the bare engine, p99 <= 2x \| [\d.]+ vs [\d.]+ flows\/s: \d+\.\d\dx, p99 \d+\.\d\dx \| (met|missed) \|/,
      // npm test gives the bench a DATABASE_URL: the cluster's CPU is not the bench's to measure.
      /\| Postgres CPU per complete flow halved .+ \| not measured \| n\/a \|/,
      /\| complete flows again >= 0\.8x with 50 consents and 500 tokens stored \| [\d.]+ vs [\d.]+ flows\/s: \d+\.\d\dx, .+ \| (met|missed) \|/,
      /\| consent-bound introspection >= 0\.9x, p99 <= 1\.5x \| \d+\.\d\dx, p99 \d+\.\d\dx \| (met|missed) \|/,
      /\| client_credentials, tls_client_auth >= 0\.9x \| \d+\.\d\dx \| (met|missed) \|/,
      /\| client_credentials, private_key_jwt >= 0\.9x \| \d+\.\d\dx \| (met|missed) \|/,
      /\| client_credentials, tls_client_auth, new TLS connection per request: .+ \| \d+\.\d\dx, .+ \d+ per core .+ Keycloak: 200 per vCPU \| reported \|/,
      /\| introspection \(tls_client_auth, own token\), new TLS connection per request: .+ \| \d+\.\d\dx, .+ Keycloak: no published figure \| reported \|/,
      /\| flat with data at 500 stored tokens and 50 consents .+ \| \d+ ms vs \d+ ms \(\d+\.\d\dx\); the sweep deleted \d+ and \d+ expired tokens in the measured windows \| (met|missed) \|/,
      /\| RSS under load <= 300 MiB per process \| \d+ MiB at most \| (met|missed) \|/,
      /\| PAR answers without errors under load in both servers \| \d+ \/ \d+ \(bare engine\), \d+ \/ \d+ \(Assent\) \| (met|missed) \|/,
      /\| capacity statement against the CDR .+ \| 450 TPS: \d+\.\d Assent cores, unmeasured Postgres cores; p99 \d+ ms against 1,000 ms \| (met|missed) \|/,
    ])
      assert.match(report, target);
    assert.match(
      report,
      /\| client_credentials, tls_client_auth, new TLS connection per request \| Assent \| \d+ req\/s \| \d+ \| [\d.]+ \| \d+ \| not measured \| not measured \| 200 \(Red Hat build of Keycloak 26\.0\) \|/,
      'per core beside Keycloak',
    );
    assert.match(report, /\| more than 60,000 \| 450 \| \d+\.\d\d \(\d+ whole\) \| not measured \|/, 'cores for the CDR top tier');
    assert.match(report, /\| 500 \| 50 \| 50 \| \d+ s \| oidc_model /, 'the clone of the large data, its time and size');
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

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
  'complete flows (PAR, login, one-time code, consent, token)',
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
      timeout: 170_000,
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
    assert.match(report, /## Targets \(issue 13\)/);
    assert.match(report, /\| database round trips per complete flow < 40 \| \d+\.\d \|/, 'round trips per flow are counted');
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

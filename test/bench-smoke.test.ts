import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const SCENARIOS = [
  'introspection (tls_client_auth, own token)',
  'client_credentials, tls_client_auth',
  'client_credentials, private_key_jwt',
  'PAR with signed request object',
  'complete flows (PAR, login, consent, token)',
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
        BENCH_CONNECTIONS: '2',
        BENCH_REQUEST_CONNECTIONS: '2',
        BENCH_FLOW_CONCURRENCY: '1',
        BENCH_CUSTOMERS: '60',
        BENCH_PRE_ISSUED: '20',
        BENCH_SCALE_SMALL: '100',
        BENCH_SCALE_LARGE: '500',
        BENCH_PROFILE: '0',
      },
      timeout: 170_000,
    });
    const report = await readFile(output, 'utf8');
    const rows = report.split('\n').filter((line) => /^\| .+ \| (postgres|memory) \|/.test(line));
    for (const scenario of SCENARIOS) {
      for (const store of ['postgres', 'memory']) {
        const row = rows.find((line) => line.startsWith(`| ${scenario} | ${store} |`));
        assert.ok(row, `${scenario} on ${store} is reported`);
        const [errors, total] = /\| (\d+) \/ (\d+) \|/.exec(row)!.slice(1).map(Number) as [number, number];
        assert.equal(errors, 0, `${scenario} on ${store} ran without errors:\n${stdout}`);
        assert.ok(total > 0, `${scenario} on ${store} completed requests`);
      }
    }
    assert.ok(rows.some((line) => line.startsWith('| introspection, 500 stored tokens | postgres |')));
    assert.match(report, /## Targets/);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CONFIG_VARIABLES } from '../src/config.ts';
import { CATALOGUE } from './conformance/catalogue.ts';
import type { ConformanceOutcome } from './support/conformance-reporter.ts';
import { CONFORMANCE_DOCUMENT, conformanceTable } from './support/conformance-table.ts';
import { startPostgresCluster } from './support/postgres-cluster.ts';

/**
 * `npm test`: runs every test file with Node's test runner against a real Postgres — the one in
 * DATABASE_URL when set (CI), otherwise a throwaway cluster started here and removed afterwards. Then, when
 * the run ran every conformance test, it holds docs/conformance.md to what they found (conformance-table.ts).
 */

const cluster = process.env.DATABASE_URL ? undefined : await startPostgresCluster();
const databaseUrl = process.env.DATABASE_URL ?? cluster!.url;
const patterns = process.argv.slice(2);

// Hermetic: none of the caller's Assent settings (PORT, OPS_PORT, ADMIN_URL, ...) reach a test; only DATABASE_URL.
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !CONFIG_VARIABLES.includes(name)));

const reports = mkdtempSync(path.join(tmpdir(), 'assent-conformance-'));
const conformanceReport = path.join(reports, 'outcomes.json');
const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout'];
reporters.push('--test-reporter=./test/support/conformance-reporter.ts', `--test-reporter-destination=${conformanceReport}`);

const child = spawn(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=180000', ...reporters, ...(patterns.length > 0 ? patterns : ['test/**/*.test.ts'])],
  { stdio: 'inherit', env: { ...env, DATABASE_URL: databaseUrl } },
);

const code = await new Promise<number>((resolve) => child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0))));
cluster?.stop();
const conformanceOutcomes = existsSync(conformanceReport)
  ? (JSON.parse(readFileSync(conformanceReport, 'utf8')) as ConformanceOutcome[])
  : [];
const conformanceCode = holdConformanceDocument(conformanceOutcomes);
rmSync(reports, { recursive: true, force: true });
process.exit(code || conformanceCode);

function holdConformanceDocument(outcomes: ConformanceOutcome[]): number {
  if (outcomes.length === 0) return 0;
  const table = conformanceTable(CATALOGUE, outcomes);
  for (const problem of table.problems) console.error(`conformance: ${problem}`);
  if (table.problems.length > 0) return 1;
  if (!table.complete) {
    if (process.env.UPDATE_CONFORMANCE === '1')
      console.error(`conformance: not every module and variant of the catalogue ran, so ${CONFORMANCE_DOCUMENT} is left as it was`);
    return 0;
  }
  if (process.env.UPDATE_CONFORMANCE === '1') {
    writeFileSync(CONFORMANCE_DOCUMENT, table.markdown);
    console.log(`conformance: wrote ${CONFORMANCE_DOCUMENT}`);
    return 0;
  }
  if (readFileSync(CONFORMANCE_DOCUMENT, 'utf8') === table.markdown) return 0;
  console.error(
    `conformance: ${CONFORMANCE_DOCUMENT} is not what this run found; UPDATE_CONFORMANCE=1 npm test -- 'test/conformance/**/*.test.ts' rewrites it`,
  );
  return 1;
}

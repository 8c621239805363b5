import { spawn } from 'node:child_process';
import { CONFIG_VARIABLES } from '../src/config.ts';
import { startPostgresCluster } from './support/postgres-cluster.ts';

/**
 * `npm test`: runs every test file with Node's test runner against a real Postgres — the one in
 * DATABASE_URL when set (CI), otherwise a throwaway cluster started here and removed afterwards.
 */

const cluster = process.env.DATABASE_URL ? undefined : await startPostgresCluster();
const databaseUrl = process.env.DATABASE_URL ?? cluster!.url;
const patterns = process.argv.slice(2);

// Hermetic: none of the caller's Assent settings (PORT, OPS_PORT, ADMIN_URL, ...) reach a test; only DATABASE_URL.
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !CONFIG_VARIABLES.includes(name)));

const child = spawn(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=180000', ...(patterns.length > 0 ? patterns : ['test/**/*.test.ts'])],
  { stdio: 'inherit', env: { ...env, DATABASE_URL: databaseUrl } },
);

const code = await new Promise<number>((resolve) => child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0))));
cluster?.stop();
process.exit(code);

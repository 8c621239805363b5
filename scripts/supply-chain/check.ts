/**
 * `npm run supply-chain` (run by .ci/run on every change): licences of production dependencies, secrets in
 * tracked files, and known high/critical vulnerabilities in production dependencies. Exit 1 on any finding.
 *
 * The vulnerability check needs the registry's audit endpoint. Where the registry (a mirror) does not offer
 * it, the check says so loudly and is skipped, unless SUPPLY_CHAIN_AUDIT=required, which makes an
 * unavailable endpoint a failure (set it in a CI that reaches registry.npmjs.org).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { blockingFindings, readAuditAllowances } from './audit.ts';
import { disallowedLicences, readAllowedLicences } from './licences.ts';
import { findSecrets, readSecretAllowances } from './secrets.ts';

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '../..');
let failed = false;

function fail(line: string) {
  failed = true;
  console.error(`supply-chain: ${line}`);
}

// Licences.
const lockfile = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
for (const finding of disallowedLicences(lockfile, readAllowedLicences(path.join(here, 'allowed-licences.json')))) {
  fail(`licence ${finding.license} of ${finding.package}@${finding.version} is not on scripts/supply-chain/allowed-licences.json`);
}

// Secrets in tracked files.
const allowances = readSecretAllowances(path.join(here, 'secret-allowlist.json'));
const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root }).toString().split('\0').filter(Boolean);
for (const file of tracked) {
  if (file === 'package-lock.json') continue; // integrity hashes only
  let text: string;
  try {
    text = readFileSync(path.join(root, file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted in the work tree
    throw error;
  }
  for (const finding of findSecrets(file, text, allowances)) fail(`possible secret (${finding.rule}) in ${finding.file}:${finding.line}`);
}

// Known vulnerabilities.
const audit = spawnSync('npm', ['audit', '--omit=dev', '--json'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
let report: { vulnerabilities?: Record<string, never>; error?: { code?: string; summary?: string }; message?: string } | undefined;
try {
  report = JSON.parse(audit.stdout);
} catch {
  report = undefined;
}
if (!report || report.error || report.message || !report.vulnerabilities) {
  const why = report?.message ?? report?.error?.summary ?? (audit.stderr.trim().split('\n')[0] || 'no answer');
  if (process.env.SUPPLY_CHAIN_AUDIT === 'required') fail(`npm audit unavailable (${why})`);
  else
    console.error(
      `supply-chain: WARNING npm audit skipped: the registry's audit endpoint is unavailable (${why}); set SUPPLY_CHAIN_AUDIT=required to fail instead`,
    );
} else {
  for (const finding of blockingFindings(report, readAuditAllowances(path.join(here, 'audit-allowlist.json')), new Date())) {
    fail(
      `${finding.severity} vulnerability in ${finding.package}: ${finding.advisories.join(', ')} (accept only in scripts/supply-chain/audit-allowlist.json, with why and until)`,
    );
  }
}

if (failed) process.exit(1);
process.stdout.write(`supply-chain: ${tracked.length} tracked files scanned, licences and advisories checked\n`);

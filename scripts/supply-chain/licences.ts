/**
 * Licences of production dependencies, read from package-lock.json (every installed package records its
 * `license` there), checked against the reviewed allow-list in allowed-licences.json. A package without a
 * licence, or with one not on the list, fails: a bank must know what it ships.
 */
import { readFileSync } from 'node:fs';

interface LockPackage {
  license?: string;
  dev?: boolean;
  version?: string;
}

export interface LicenceFinding {
  package: string;
  version: string;
  license: string;
}

/** True when an SPDX expression is satisfied by the allowed ids (`A OR B` needs one, `A AND B` needs both). */
export function licenceAllowed(expression: string, allowed: ReadonlySet<string>): boolean {
  const trimmed = expression
    .trim()
    .replace(/^\((.*)\)$/, '$1')
    .trim();
  const alternatives = trimmed.split(/\s+OR\s+/i);
  if (alternatives.length > 1) return alternatives.some((part) => licenceAllowed(part, allowed));
  const required = trimmed.split(/\s+AND\s+/i);
  if (required.length > 1) return required.every((part) => licenceAllowed(part, allowed));
  return allowed.has(trimmed);
}

export function disallowedLicences(lockfile: { packages: Record<string, LockPackage> }, allowed: ReadonlySet<string>): LicenceFinding[] {
  const findings: LicenceFinding[] = [];
  for (const [location, entry] of Object.entries(lockfile.packages)) {
    if (location === '' || entry.dev) continue;
    const license = entry.license ?? '';
    if (!license || !licenceAllowed(license, allowed)) {
      findings.push({ package: location.replace(/^.*node_modules\//, ''), version: entry.version ?? '?', license: license || '(none)' });
    }
  }
  return findings;
}

export function readAllowedLicences(file: string): Set<string> {
  const { allowed } = JSON.parse(readFileSync(file, 'utf8')) as { allowed: string[] };
  return new Set(allowed);
}

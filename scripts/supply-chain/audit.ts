/**
 * Known vulnerabilities in production dependencies, from `npm audit --omit=dev`. High and critical ones fail
 * unless listed in audit-allowlist.json with the reason and a date until which the acceptance holds; an
 * expired acceptance fails like a new finding.
 */
import { readFileSync } from 'node:fs';

export interface AuditAllowance {
  advisory: string;
  package: string;
  why: string;
  until: string;
}

export interface AuditFinding {
  package: string;
  severity: string;
  advisories: string[];
}

interface NpmAuditReport {
  vulnerabilities?: Record<string, { severity: string; via: Array<string | { url?: string; source?: number; severity?: string }> }>;
}

const BLOCKING = new Set(['high', 'critical']);

/** Findings that block: high or critical, not covered by an allowance still in force on `today`. */
export function blockingFindings(report: NpmAuditReport, allowances: readonly AuditAllowance[], today: Date): AuditFinding[] {
  const inForce = allowances.filter((allowance) => new Date(`${allowance.until}T23:59:59Z`) >= today);
  const findings: AuditFinding[] = [];
  for (const [name, vulnerability] of Object.entries(report.vulnerabilities ?? {})) {
    if (!BLOCKING.has(vulnerability.severity)) continue;
    const advisories = vulnerability.via
      .filter((via): via is { url?: string; severity?: string } => typeof via === 'object')
      .filter((via) => via.severity === undefined || BLOCKING.has(via.severity))
      .map((via) => via.url ?? 'unknown');
    // A package flagged only through a dependency carries its severity in `via` strings: that
    // dependency is reported on its own entry.
    if (advisories.length === 0) continue;
    const open = advisories.filter((url) => !inForce.some((allowance) => allowance.package === name && url.endsWith(allowance.advisory)));
    if (open.length > 0) findings.push({ package: name, severity: vulnerability.severity, advisories: open });
  }
  return findings;
}

export function readAuditAllowances(file: string): AuditAllowance[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as { allowances: AuditAllowance[] }).allowances;
}

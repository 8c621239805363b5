/**
 * A scan of the repository's tracked files for committed secrets: private keys, private JWKs, cloud and
 * forge tokens, credentials inside connection strings. Dev keys are generated at first start into ./data/
 * (git-ignored), so a tracked file holding one is a leak. Reviewed false positives are listed in
 * secret-allowlist.json with the reason.
 */
import { readFileSync } from 'node:fs';

export interface SecretRule {
  name: string;
  /** Global, so that every match is looked at. */
  pattern: RegExp;
  /** A match that is a documented placeholder, not a secret. */
  placeholder?: (match: RegExpExecArray) => boolean;
}

const PLACEHOLDER_PASSWORDS = new Set(['password', 'secret', 'changeme', 'pass', 'example']);

export const SECRET_RULES: readonly SecretRule[] = [
  { name: 'PEM private key', pattern: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----\s*[A-Za-z0-9+/=]{40,}/g },
  { name: 'private JWK', pattern: /"d"\s*:\s*"[A-Za-z0-9_-]{32,}"/g },
  { name: 'AWS access key id', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { name: 'GitHub token', pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g },
  { name: 'npm token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/g },
  { name: 'Slack token', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g },
  {
    name: 'password in a connection string',
    pattern: /\b(?:postgres(?:ql)?|mysql|redis|amqp):\/\/[^:\s/@'"`]+:([^@\s'"`$]{6,})@/g,
    placeholder: (match) => PLACEHOLDER_PASSWORDS.has(match[1]!.toLowerCase()),
  },
];

export interface SecretFinding {
  file: string;
  line: number;
  rule: string;
}

export interface SecretAllowance {
  file: string;
  rule: string;
  why: string;
}

export function findSecrets(file: string, text: string, allowances: readonly SecretAllowance[] = []): SecretFinding[] {
  if (text.includes('\u0000')) return []; // binary
  const findings: SecretFinding[] = [];
  const lines = text.split('\n');
  for (const rule of SECRET_RULES) {
    if (allowances.some((allowance) => allowance.file === file && allowance.rule === rule.name)) continue;
    // Multi-line patterns (PEM) are matched on the whole text, then located by offset.
    for (const match of text.matchAll(rule.pattern)) {
      if (rule.placeholder?.(match)) continue;
      const line = text.slice(0, match.index).split('\n').length;
      findings.push({ file, line: Math.min(line, lines.length), rule: rule.name });
    }
  }
  return findings;
}

export function readSecretAllowances(file: string): SecretAllowance[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as { allowances: SecretAllowance[] }).allowances;
}

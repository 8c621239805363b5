import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { blockingFindings } from '../scripts/supply-chain/audit.ts';
import { disallowedLicences, licenceAllowed, readAllowedLicences } from '../scripts/supply-chain/licences.ts';
import { findSecrets, readSecretAllowances } from '../scripts/supply-chain/secrets.ts';

// Planted secrets are assembled at run time so that this file does not itself hold one.
const pemHeader = ['-----BEGIN', 'PRIVATE KEY-----'].join(' ');
const plantedKey = `${pemHeader}\n${'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'.repeat(3)}\n-----END PRIVATE KEY-----\n`;
const allowed = readAllowedLicences('scripts/supply-chain/allowed-licences.json');

describe('supply chain: licences', () => {
  it('reads SPDX expressions: OR needs one allowed id, AND needs all', () => {
    assert.equal(licenceAllowed('MIT', allowed), true);
    assert.equal(licenceAllowed('GPL-3.0-only', allowed), false);
    assert.equal(licenceAllowed('(MIT OR GPL-3.0-only)', allowed), true);
    assert.equal(licenceAllowed('MIT AND AGPL-3.0-only', allowed), false);
  });

  it('refuses a production dependency with a copyleft or missing licence, ignores dev dependencies', () => {
    const findings = disallowedLicences(
      {
        packages: {
          '': {},
          'node_modules/ok': { license: 'MIT', version: '1.0.0' },
          'node_modules/copyleft': { license: 'AGPL-3.0-only', version: '2.0.0' },
          'node_modules/bare': { version: '3.0.0' },
          'node_modules/tooling': { license: 'GPL-2.0-only', dev: true },
        },
      },
      allowed,
    );
    assert.deepEqual(
      findings.map((finding) => finding.package),
      ['copyleft', 'bare'],
    );
  });

  it("every production dependency in this repository's lockfile is on the allowed list", () => {
    assert.deepEqual(disallowedLicences(JSON.parse(readFileSync('package-lock.json', 'utf8')), allowed), []);
  });
});

describe('supply chain: secrets', () => {
  it('finds a committed private key and a private JWK, with their lines', () => {
    const findings = findSecrets('leak.txt', `first line\n${plantedKey}`);
    assert.deepEqual(findings, [{ file: 'leak.txt', line: 2, rule: 'PEM private key' }]);
    const jwk = JSON.stringify({ kty: 'EC', d: 'a'.repeat(43) });
    assert.equal(findSecrets('key.json', jwk)[0]?.rule, 'private JWK');
  });

  it('finds a real password in a connection string but not a documented placeholder', () => {
    const scheme = ['postgres', '//'].join(':');
    assert.equal(findSecrets('a.md', `${scheme}app:Xq9-rT4vLm@db/assent`).length, 1);
    assert.equal(findSecrets('a.md', `${scheme}user:password@localhost/assent`).length, 0);
  });

  it('skips a reviewed allowance', () => {
    assert.deepEqual(findSecrets('leak.txt', plantedKey, [{ file: 'leak.txt', rule: 'PEM private key', why: 'test' }]), []);
  });

  it('no tracked file of this repository holds a secret', () => {
    const allowances = readSecretAllowances('scripts/supply-chain/secret-allowlist.json');
    const files = execFileSync('git', ['ls-files', '-z'])
      .toString()
      .split('\0')
      .filter((file) => file && file !== 'package-lock.json');
    const findings = files.flatMap((file) => {
      try {
        return findSecrets(file, readFileSync(file, 'utf8'), allowances);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
    });
    assert.deepEqual(findings, []);
  });
});

describe('supply chain: advisories', () => {
  const report = {
    vulnerabilities: {
      pkg: { severity: 'high', via: [{ url: 'https://github.com/advisories/GHSA-aaaa-bbbb-cccc', severity: 'high' }] },
      parent: { severity: 'high', via: ['pkg'] },
      minor: { severity: 'moderate', via: [{ url: 'https://github.com/advisories/GHSA-mmmm-mmmm-mmmm', severity: 'moderate' }] },
    },
  };

  it('blocks a high advisory, once, at the package that carries it', () => {
    assert.deepEqual(blockingFindings(report, [], new Date('2026-11-29')), [
      { package: 'pkg', severity: 'high', advisories: ['https://github.com/advisories/GHSA-aaaa-bbbb-cccc'] },
    ]);
  });

  it('an acceptance holds until its date, and blocks again after it', () => {
    const allowance = { advisory: 'GHSA-aaaa-bbbb-cccc', package: 'pkg', why: 'not reachable from Assent', until: '2026-12-31' };
    assert.deepEqual(blockingFindings(report, [allowance], new Date('2026-11-29')), []);
    assert.equal(blockingFindings(report, [allowance], new Date('2027-01-01')).length, 1);
  });
});

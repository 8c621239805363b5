import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { EidasTrustFileError } from '../../src/tpp/eidas-trust.ts';
import { startTestAssent } from '../support/assent.ts';

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail(`${JSON.stringify(env)} was accepted`);
}

test('eIDAS settings: one line for a bad value; dev mode trusts the dev CA, production none unless told', () => {
  assert.equal(configError({ BERLIN_GROUP_SIGNED_REQUESTS: 'yes' }), 'BERLIN_GROUP_SIGNED_REQUESTS must be required or off (got "yes")');
  assert.equal(configError({ EIDAS_CRL_FILE: '/nowhere/qtsp.crl' }), 'EIDAS_CRL_FILE: cannot read /nowhere/qtsp.crl (no such file)');
  assert.equal(
    configError({ EIDAS_TRUSTED_CA_FILE: '/nowhere/qtsp-cas.pem' }),
    'EIDAS_TRUSTED_CA_FILE: cannot read /nowhere/qtsp-cas.pem (no such file)',
  );

  const dev = loadConfig({ DATA_DIR: '/tmp/assent-dev' });
  assert.deepEqual(dev.eidas, { trustedCaFile: path.join('/tmp/assent-dev', 'tls', 'ca.pem'), crlFile: undefined, signedRequests: 'off' });
  const production = loadConfig({
    DATABASE_URL: 'postgres://assent@db/assent',
    ISSUER: 'https://auth.bank.example',
    TLS_TERMINATED_BY_PROXY: 'true',
    TRUSTED_PROXIES: '10.0.0.1',
    TOTP_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    ADMIN_HOST: '127.0.0.1',
    BERLIN_GROUP_SIGNED_REQUESTS: 'required',
  });
  assert.deepEqual(production.eidas, { trustedCaFile: undefined, crlFile: undefined, signedRequests: 'required' });
});

test('a CRL file that is not one stops the start with one line naming the variable and the file', async () => {
  const directory = await mkdtemp(path.join(tmpdir(), 'assent-eidas-start-'));
  try {
    const crlFile = path.join(directory, 'qtsp.crl');
    await writeFile(crlFile, 'not a CRL');
    await assert.rejects(
      startTestAssent({ EIDAS_CRL_FILE: crlFile }),
      (error) => error instanceof EidasTrustFileError && error.message === `EIDAS_CRL_FILE ${crlFile}: CRL 1 does not parse`,
    );
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});

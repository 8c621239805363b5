import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { fetch } from 'undici';
import { tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer } from '../support/customers.ts';
import { pushAuthorizationRequest, redeemCode } from '../support/tpp.ts';
import { useAssent, useTpp } from '../support/fixture.ts';

// Activation at +6 s, retirement 7 s later (token lifetime + refresh interval): wide windows for each
// check on a loaded machine. Every wait is measured from the times the rotation itself reports.
// The activation delay leaves room for a full sign-in on a loaded machine before the new keys sign.
const ROTATION_ENV = { KEY_ACTIVATION_DELAY: '15', KEY_REFRESH_INTERVAL: '1', ACCESS_TOKEN_TTL: '6' };
const REFRESHED = 1500;

const issuedAt = (token: string) => new Date(decodeJwt(token).iat! * 1000);

describe('signing key rotation with `keys:rotate`', () => {
  const assent = useAssent(ROTATION_ENV);
  const tpp = useTpp(assent, { auth: 'tls_client_auth' });

  const jwks = async () =>
    (await (await fetch(`${assent.issuer}/jwks`, { dispatcher: tlsAgent(assent.ca.certPem) })).json()) as JSONWebKeySet;

  async function idToken() {
    const customer = await createTestCustomer(assent.db);
    const request = await pushAuthorizationRequest(tpp);
    const callback = await new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer).authorize(request.url, customer);
    const tokens = await redeemCode(tpp, callback, request);
    return tokens.id_token!;
  }

  test('new keys are published first, sign after the delay; old keys verify until their tokens expire', async () => {
    const initial = await jwks();
    assert.equal(initial.keys.length, 2);
    const oldToken = await idToken();
    const oldKid = decodeProtectedHeader(oldToken).kid!;
    assert.ok(initial.keys.some((key) => key.kid === oldKid));

    const { stdout } = await promisify(execFile)(process.execPath, ['src/cli/admin.ts', 'keys:rotate', '--json'], {
      env: { ...process.env, ...ROTATION_ENV, DATABASE_URL: assent.databaseUrl, DATA_DIR: assent.dataDir, DEV_MODE: 'true' },
    });
    const rotation = JSON.parse(stdout) as {
      created: { kid: string; alg: string; activatesAt: string }[];
      retiring: { kid: string; retiresAt: string }[];
    };
    const activatesAt = Date.parse(rotation.created[0]!.activatesAt);
    const retiresAt = Date.parse(rotation.retiring[0]!.retiresAt);
    assert.equal(retiresAt - activatesAt, 7000);
    assert.deepEqual(rotation.created.map((key) => key.alg).toSorted(), ['ES256', 'PS256']);
    assert.deepEqual(rotation.retiring.map((key) => key.kid).toSorted(), initial.keys.map((key) => key.kid).toSorted());
    const newPs256 = rotation.created.find((key) => key.alg === 'PS256')!.kid;

    await sleep(REFRESHED);
    const published = await jwks();
    assert.equal(published.keys.length, 4, 'the new keys are published before they sign');
    assert.deepEqual(published.keys.find((key) => key.kid === newPs256)?.key_ops, ['verify']);
    assert.equal(decodeProtectedHeader(await idToken()).kid, oldKid, 'the old key still signs during the delay');
    assert.ok(Date.now() < activatesAt, 'checked before activation');

    await sleep(Math.max(0, activatesAt + REFRESHED - Date.now()));
    const newToken = await idToken();
    assert.equal(decodeProtectedHeader(newToken).kid, newPs256, 'the new key signs after the delay');
    const during = await jwks();
    assert.ok(Date.now() < retiresAt, 'checked before retirement');
    assert.deepEqual(during.keys.find((key) => key.kid === oldKid)?.key_ops, ['verify'], 'the old key is kept for verification');
    const verifyWith = createLocalJWKSet(during);
    // The signatures are what is checked here; the tokens' own lifetime is not.
    await jwtVerify(oldToken, verifyWith, { issuer: assent.issuer, currentDate: issuedAt(oldToken) });
    await jwtVerify(newToken, verifyWith, { issuer: assent.issuer, currentDate: issuedAt(newToken) });

    await sleep(Math.max(0, retiresAt + REFRESHED - Date.now()));
    const afterRetirement = await jwks();
    assert.deepEqual(afterRetirement.keys.map((key) => key.kid).toSorted(), rotation.created.map((key) => key.kid).toSorted());
    assert.ok(afterRetirement.keys.every((key) => key.key_ops === undefined));

    const events = await assent.db.selectFrom('audit_event').select(['event', 'subject_id']).where('subject_type', '=', 'key').execute();
    assert.equal(events.filter((event) => event.event === 'signing_key.created').length, 2);
    assert.equal(events.filter((event) => event.event === 'signing_key.retirement_scheduled').length, 2);
  });
});

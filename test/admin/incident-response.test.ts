import assert from 'node:assert/strict';
import { type webcrypto, X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, importJWK, type JSONWebKeySet, type JWK, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { findClientMetadata } from '../../src/store/clients.ts';
import { type TestAssent, tlsAgent } from '../support/assent.ts';
import { customerWithAccounts, grantConsent } from '../support/granted-consents.ts';
import { runAdmin } from '../support/onboarding.ts';
import { createTestTpp, type TestTpp } from '../support/tpp.ts';
import { useAssent } from '../support/fixture.ts';

/**
 * Rehearsals of docs/incident-response.md: each incident command run through the admin CLI against a
 * running server (so through its admin API), then its effect proven where a TPP or customer meets it.
 */

const admin = async (assent: TestAssent, ...args: string[]) => JSON.parse(await runAdmin(assent, args)) as Record<string, unknown>;
const refusedWith = (error: string) => (caught: oidc.ResponseBodyError) => caught.error === error;

describe('incident response, one command each', () => {
  const assent = useAssent();

  const tokenRows = (clientId: string) =>
    assent.db
      .selectFrom('oidc_model')
      .select('model')
      .where('model', 'in', ['AccessToken', 'RefreshToken', 'ClientCredentials'])
      .where((eb) => eb(eb.ref('payload', '->>').key('clientId' as never), '=', clientId))
      .execute();

  test("a TPP's client certificate is compromised: blocked by thumbprint, its bound tokens die, its calls are refused; unblocking lets a new credential work", async () => {
    const tpp = await createTestTpp(assent, { auth: 'tls_client_auth' });
    const bystander = await createTestTpp(assent, { auth: 'tls_client_auth' });
    const token = await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' });
    const bystanderToken = await oidc.clientCredentialsGrant(bystander.config, { scope: 'accounts' });
    assert.equal((await oidc.tokenIntrospection(tpp.config, token.access_token)).active, true);

    // The operator has the thumbprint as openssl prints it: colon-separated hex.
    const thumbprint = new X509Certificate(tpp.certificate.certPem).fingerprint256;
    const blocked = await admin(
      assent,
      'incident:block-credential',
      tpp.clientId,
      '--certificate',
      thumbprint,
      '--reason',
      'key of the transport certificate leaked',
    );
    assert.equal(blocked.consentsEnded, 0);
    assert.ok(Number(blocked.tokensRevoked) >= 1, JSON.stringify(blocked));
    assert.deepEqual(await tokenRows(tpp.clientId), [], 'no token bound to the certificate survives');

    await assert.rejects(oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }), refusedWith('invalid_client'));
    await assert.rejects(oidc.tokenIntrospection(tpp.config, token.access_token), refusedWith('invalid_client'));
    assert.equal((await oidc.tokenIntrospection(bystander.config, bystanderToken.access_token)).active, true, 'other TPPs are untouched');

    const history = await auditHistory(assent.db, 'tpp', tpp.clientId);
    assert.deepEqual(
      history.map((entry) => [entry.event, entry.actor.kind]),
      [['tpp.credential_blocked', 'operator']],
    );

    await assert.rejects(
      runAdmin(assent, ['incident:block-credential', tpp.clientId, '--certificate', thumbprint, '--kid', 'k1', '--reason', 'x']),
      /exactly one/,
    );
    const listed = (await runAdmin(assent, ['incident:blocked-credentials', '--client-id', tpp.clientId]))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; value: string });
    assert.deepEqual(
      listed.map((row) => row.kind),
      ['certificate'],
    );

    await admin(
      assent,
      'incident:unblock-credential',
      tpp.clientId,
      '--certificate',
      thumbprint,
      '--reason',
      'certificate reissued and verified',
    );
    assert.equal((await oidc.tokenIntrospection(tpp.config, token.access_token)).active, false, 'tokens killed by the block stay dead');
    assert.ok((await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' })).access_token);
  });

  test("a TPP's signing key is compromised: blocked by kid, nothing it signs authenticates, tokens bound to it die", async () => {
    const tpp = await createTestTpp(assent);
    const publicJwk = ((await findClientMetadata(assent.db, tpp.clientId))!.jwks as { keys: JWK[] }).keys[0]!;
    // The TPP also used the key for DPoP: its tokens carry the key's thumbprint as cnf.jkt.
    const dpop = oidc.getDPoPHandle(tpp.config, {
      privateKey: tpp.privateKey,
      publicKey: (await importJWK(publicJwk, 'PS256')) as webcrypto.CryptoKey,
    });
    const token = await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: dpop });
    assert.equal((await tokenRows(tpp.clientId)).length, 1);

    const blocked = await admin(
      assent,
      'incident:block-credential',
      tpp.clientId,
      // A random kid may start with a dash, which parseArgs reads as an option unless it is joined with `=`.
      `--kid=${tpp.kid}`,
      '--reason',
      'TPP reports its signing key stolen',
    );
    assert.deepEqual([blocked.tokensRevoked, blocked.consentsEnded], [1, 0]);
    assert.deepEqual(await tokenRows(tpp.clientId), []);
    await assert.rejects(oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: dpop }), refusedWith('invalid_client'));
    await assert.rejects(oidc.tokenIntrospection(tpp.config, token.access_token), refusedWith('invalid_client'));
  });

  test("Assent's signing key is compromised: `keys:withdraw` takes the old keys out of the JWKS at once; what they signed stops verifying; new tokens are signed with new keys", async () => {
    const tpp = await createTestTpp(assent);
    const { customer, current } = await customerWithAccounts(assent);
    const granted = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current] });
    const jwks = async () =>
      (await (await fetch(`${assent.issuer}/jwks`, { dispatcher: tlsAgent(assent.ca.certPem) })).json()) as JSONWebKeySet;
    const idToken = granted.tokens.id_token!;
    await jwtVerify(idToken, createLocalJWKSet(await jwks()));
    const oldKid = decodeProtectedHeader(idToken).kid;

    const withdrawn = await admin(assent, 'keys:withdraw', '--reason', 'HSM export found on a laptop');
    assert.deepEqual([withdrawn.consentsEnded, withdrawn.tokensRevoked], [0, 0]);
    const published = await jwks();
    assert.ok(!published.keys.some((key) => key.kid === oldKid), 'the compromised key is gone from the JWKS');
    await assert.rejects(jwtVerify(idToken, createLocalJWKSet(published)), { code: 'ERR_JWKS_NO_MATCHING_KEY' });

    const refreshed = await oidc.refreshTokenGrant(tpp.config, granted.tokens.refresh_token!, undefined, { DPoP: granted.dpop });
    const newKid = decodeProtectedHeader(refreshed.id_token!).kid;
    assert.ok(
      (withdrawn.created as { kid: string }[]).some((key) => key.kid === newKid),
      'the new key signs at once',
    );
    await jwtVerify(refreshed.id_token!, createLocalJWKSet(published), { audience: tpp.clientId });
    const history = await auditHistory(assent.db, 'key', oldKid!);
    assert.equal(history.at(-1)?.event, 'signing_key.withdrawn');
  });

  test("a customer's account is taken over: `customer:lockdown` revokes every consent, ends every session, disables sign-in and resets the authenticator", async () => {
    const tppA = await createTestTpp(assent);
    const tppB = await createTestTpp(assent);
    const { customer, current, savings } = await customerWithAccounts(assent);
    const first = await grantConsent(assent, tppA, customer, { type: 'account_access', accounts: [current] });
    const second = await grantConsent(assent, tppB, customer, { type: 'account_access', accounts: [savings] });
    const enrolled = await assent.db.selectFrom('customer').select('totp_secret').where('id', '=', customer.id).executeTakeFirstOrThrow();

    const locked = await admin(assent, 'customer:lockdown', customer.username, '--reason', 'fraud team: SIM swap reported');
    assert.equal(locked.consentsEnded, 2);
    assert.ok(Number(locked.tokensRevoked) >= 4, 'access and refresh tokens of both consents');
    assert.ok(Number(locked.sessionsEnded) >= 1, 'the sign-in session of the consent flows');
    assert.match(String(locked.otpauthUri), /^otpauth:\/\/totp\//);

    assert.equal((await oidc.tokenIntrospection(tppA.config, first.tokens.access_token)).active, false);
    assert.equal((await oidc.tokenIntrospection(tppB.config, second.tokens.access_token)).active, false);
    await assert.rejects(
      oidc.refreshTokenGrant(tppA.config, first.tokens.refresh_token!, undefined, { DPoP: first.dpop }),
      refusedWith('invalid_grant'),
    );
    const consents = await assent.db.selectFrom('consent').select('status').where('customer_id', '=', customer.id).execute();
    assert.deepEqual(
      consents.map((row) => row.status),
      ['Revoked', 'Revoked'],
    );
    const lockedRow = await assent.db
      .selectFrom('customer')
      .select(['totp_secret', 'disabled_at'])
      .where('id', '=', customer.id)
      .executeTakeFirstOrThrow();
    assert.notEqual(lockedRow.disabled_at, null);
    assert.notEqual(lockedRow.totp_secret, enrolled.totp_secret, 'the old authenticator no longer works');
    const sessions = await assent.db
      .selectFrom('oidc_model')
      .select('id')
      .where('model', '=', 'Session')
      .where((eb) => eb(eb.ref('payload', '->>').key('accountId' as never), '=', customer.id))
      .execute();
    assert.deepEqual(sessions, []);
    const events = (await auditHistory(assent.db, 'customer', customer.id)).map((entry) => entry.event);
    assert.ok(events.includes('customer.disabled') && events.includes('customer.totp_enrolled'), events.join());
  });

  test('a bad release issued tokens: `tokens:revoke-issued` ends those issued in the window (one client only when asked), dry run first', async () => {
    const faulty = await createTestTpp(assent, { auth: 'tls_client_auth' });
    const other = await createTestTpp(assent, { auth: 'tls_client_auth' });
    const from = new Date(Date.now() - 1000).toISOString();
    const tokens = [
      await oidc.clientCredentialsGrant(faulty.config, { scope: 'accounts' }),
      await oidc.clientCredentialsGrant(faulty.config, { scope: 'accounts' }),
    ];
    const untouched = await oidc.clientCredentialsGrant(other.config, { scope: 'accounts' });
    const to = new Date(Date.now() + 1000).toISOString();

    const dry = await admin(
      assent,
      'tokens:revoke-issued',
      '--from',
      from,
      '--to',
      to,
      '--client-id',
      faulty.clientId,
      '--reason',
      'release 4.2 scoped tokens wrongly',
      '--dry-run',
      'true',
    );
    assert.deepEqual([dry.dryRun, dry.tokensRevoked], [true, 2]);
    assert.equal((await oidc.tokenIntrospection(faulty.config, tokens[0]!.access_token)).active, true, 'a dry run changes nothing');

    const done = await admin(
      assent,
      'tokens:revoke-issued',
      '--from',
      from,
      '--to',
      to,
      '--client-id',
      faulty.clientId,
      '--reason',
      'release 4.2 scoped tokens wrongly',
    );
    assert.deepEqual([done.tokensRevoked, done.consentsEnded], [2, 0]);
    for (const token of tokens) assert.equal((await oidc.tokenIntrospection(faulty.config, token.access_token)).active, false);
    assert.equal((await oidc.tokenIntrospection(other.config, untouched.access_token)).active, true, 'the other client was not in scope');
    assert.equal((await auditHistory(assent.db, 'incident', String(done.incidentId)))[0]?.event, 'tokens.revoked_in_window');
    await assert.rejects(runAdmin(assent, ['tokens:revoke-issued', '--from', to, '--to', from, '--reason', 'x']), /from must be before to/);
  });

  test('a TPP misbehaves: `tpp:throttle` holds it to a lower rate (429) without suspending it; `tpp:unthrottle` lifts it', async () => {
    const noisy: TestTpp = await createTestTpp(assent, { auth: 'tls_client_auth' });
    const quiet = await createTestTpp(assent, { auth: 'tls_client_auth' });
    const throttled = await admin(
      assent,
      'tpp:throttle',
      noisy.clientId,
      '--limit',
      '2',
      '--window-seconds',
      '600',
      '--reason',
      'polling every 50 ms',
    );
    assert.deepEqual([throttled.limit, throttled.consentsEnded, throttled.tokensRevoked], [2, 0, 0]);

    let refusal: oidc.ResponseBodyError | undefined;
    for (let call = 0; call < 6; call++) {
      refusal = await oidc.clientCredentialsGrant(noisy.config, { scope: 'accounts' }).then(
        () => undefined,
        (error: oidc.ResponseBodyError) => error,
      );
      if (refusal) break;
    }
    assert.ok(refusal, 'the throttled TPP was refused within six calls');
    assert.deepEqual([refusal.status, refusal.error], [429, 'temporarily_unavailable']);
    for (let call = 0; call < 4; call++) assert.ok((await oidc.clientCredentialsGrant(quiet.config, { scope: 'accounts' })).access_token);

    await admin(assent, 'tpp:unthrottle', noisy.clientId, '--reason', 'TPP fixed its polling');
    assert.ok((await oidc.clientCredentialsGrant(noisy.config, { scope: 'accounts' })).access_token);
    const events = (await auditHistory(assent.db, 'tpp', noisy.clientId)).map((entry) => entry.event);
    assert.deepEqual(events, ['tpp.throttled', 'tpp.unthrottled']);
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { customerWithAccounts, grantConsent } from '../support/granted-consents.ts';
import { runAdmin } from '../support/onboarding.ts';
import { createTestTpp, type TestTpp } from '../support/tpp.ts';
import { useAssent, useResourceServer, useTpp } from '../support/fixture.ts';

/**
 * The operator's throttle (`tpp:throttle`) counts the throttled TPP's own authenticated requests only:
 * not a resource server's introspection of its tokens (which loads the TPP's client too), and not a
 * request that names its client_id without authenticating as it.
 */

/** A client_credentials grant's token type, or the OAuth error it got. */
const grantFor = async (client: TestTpp) =>
  oidc
    .clientCredentialsGrant(
      client.config,
      { scope: 'accounts' },
      { DPoP: oidc.getDPoPHandle(client.config, await oidc.randomDPoPKeyPair('ES256')) },
    )
    .then(
      (tokens) => tokens.token_type.toLowerCase(),
      (error: oidc.ResponseBodyError) => error.error,
    );

describe("the operator's throttle counts only the TPP's own authenticated requests", () => {
  let accessToken: string;
  let dpop: oidc.DPoPHandle;

  const assent = useAssent();
  const tpp = useTpp(assent);
  const rs = useResourceServer(assent);
  before(async () => {
    dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const { customer, current } = await customerWithAccounts(assent);
    accessToken = (await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current] })).tokens.access_token;
    await runAdmin(assent, ['tpp:throttle', tpp.clientId, '--limit', '2', '--window-seconds', '600', '--reason', 'polling every 50 ms']);
  });

  const hitsOf = async (clientId: string) =>
    (await assent.db.selectFrom('rate_limit').select('hits').where('key', '=', `client:${clientId}`).executeTakeFirst())?.hits ?? 0;

  test("a resource server's introspections of the throttled TPP's consent-bound token are neither refused nor counted", async () => {
    for (let call = 0; call < 5; call++) {
      const introspected = await rs.introspect(accessToken);
      assert.equal(introspected.active, true, `introspection ${call + 1} answered for the token`);
      assert.equal(introspected.client_id, tpp.clientId);
    }
    assert.equal(await hitsOf(tpp.clientId), 0, "nothing counted against the TPP's allowance");
  });

  test('requests naming the TPP without authenticating as it give their hit back; its own requests then get exactly the limit', async () => {
    const impostor = await createTestTpp(assent);
    for (let call = 0; call < 4; call++) {
      const now = Math.floor(Date.now() / 1000);
      // The TPP's client_id, signed with another key: it names the TPP but does not authenticate as it.
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: 'PS256', kid: tpp.kid })
        .setIssuer(tpp.clientId)
        .setSubject(tpp.clientId)
        .setAudience(assent.issuer)
        .setJti(randomUUID())
        .setIssuedAt(now)
        .setExpirationTime(now + 60)
        .sign(impostor.privateKey);
      const response = await fetch(`${assent.issuer}/token`, {
        method: 'POST',
        dispatcher: impostor.agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          scope: 'accounts',
          client_id: tpp.clientId,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        }).toString(),
      });
      assert.equal(response.status, 401, 'an assertion signed with another key does not authenticate as the TPP');
      assert.equal(((await response.json()) as { error: string }).error, 'invalid_client');
    }
    assert.equal(await hitsOf(tpp.clientId), 0, 'the failed authentications count nothing');

    for (let call = 0; call < 2; call++)
      assert.ok(
        (await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: dpop })).access_token,
        `own call ${call + 1} is within the limit`,
      );
    await assert.rejects(
      oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: dpop }),
      (error: oidc.ResponseBodyError) => error.status === 429 && error.error === 'temporarily_unavailable',
    );
    assert.equal((await rs.introspect(accessToken)).active, true, 'the resource server still introspects while the TPP is refused');
  });

  test("client standings read together (one statement per event-loop round) stay each client's own: a blocked key refuses only its TPP", async () => {
    const blocked = await createTestTpp(assent);
    const bystander = await createTestTpp(assent);
    // The fault injected for real: the operator's block, as `incident:block-credential` stores it.
    await assent.db
      .insertInto('blocked_credential')
      .values({ client_id: blocked.clientId, kind: 'key', value: blocked.kid, reason: 'key leaked', blocked_by: 'test' })
      .execute();
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => grantFor(i % 2 === 0 ? blocked : bystander)));
    assert.deepEqual(
      answers.filter((_, i) => i % 2 === 0),
      Array(6).fill('invalid_client'),
      'nothing the blocked key signs authenticates',
    );
    assert.deepEqual(
      answers.filter((_, i) => i % 2 === 1),
      Array(6).fill('dpop'),
      'the other TPP, loaded in the same rounds, is untouched',
    );
  });
});

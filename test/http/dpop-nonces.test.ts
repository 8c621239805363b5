import assert from 'node:assert/strict';
import { hash, hkdfSync, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import type { Db } from '../../src/db/connect.ts';
import { dpopNonceSecret } from '../../src/oidc/keys.ts';
import { GRANTS_PATH } from '../../src/protocol/routes.ts';
import { CONSENT_SCOPES, SCOPE } from '../../src/protocol/scopes.ts';
import { tlsAgent } from '../support/assent.ts';
import { ACCOUNT_ACCESS, accountAccessRequest, consentCount } from '../support/consent-api.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer } from '../support/customers.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';
import { createTestTpp, pushAuthorizationRequest, recordExchanges, redeemCode } from '../support/tpp.ts';

/** A DPoP proof signed by hand (RFC 9449 section 4.2), with whatever nonce the test wants. */
async function proofOf(keys: oidc.CryptoKeyPair, method: string, url: string, accessToken: string, nonce?: string) {
  return new SignJWT({ htm: method, htu: url, ath: hash('sha256', accessToken, 'base64url'), ...(nonce !== undefined && { nonce }) })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(keys.publicKey) })
    .setJti(randomUUID())
    .setIssuedAt()
    .sign(keys.privateKey);
}

/**
 * The nonce of a 60-second step as the engine computes it (oidc-provider lib/helpers/challenge.js: HKDF
 * of the secret with the step as an 8-byte big-endian salt), so a test can hold one minutes old.
 */
function nonceOfStep(secret: Buffer, step: number): string {
  const salt = Buffer.alloc(8);
  salt.writeBigUInt64BE(BigInt(step));
  return Buffer.from(hkdfSync('sha256', secret, salt, 'DPoP', 32)).toString('base64url');
}

const currentStep = () => Math.floor(Date.now() / 1000 / 60);

describe('DPoP server nonces (RFC 9449 sections 8 and 9), on by default', () => {
  const assent = useAssent();
  const tpp = useTpp(assent, { metadata: { scope: [SCOPE.openid, ...CONSENT_SCOPES, SCOPE.grantManagementQuery].join(' ') } });
  const api = useConsentApi(assent, tpp);

  test('PAR and the token endpoint answer use_dpop_nonce first; openid-client retries with the nonce by itself', async () => {
    const flowTpp = await createTestTpp(assent);
    const seen = recordExchanges(flowTpp);
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const request = await pushAuthorizationRequest(flowTpp, {}, { DPoP: oidc.getDPoPHandle(flowTpp.config, keys) });
    const customer = await createTestCustomer(assent.db);
    const callback = await new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer).authorize(request.url, customer);
    // A new handle for the same key knows no nonce yet, so the token endpoint challenges it too.
    const tokens = await redeemCode(flowTpp, callback, request, { dpop: oidc.getDPoPHandle(flowTpp.config, keys) });
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');

    const par = seen.filter((exchange) => exchange.path === '/request');
    assert.deepEqual(
      par.map(({ status, error }) => [status, error]),
      [
        [400, 'use_dpop_nonce'],
        [201, undefined],
      ],
    );
    assert.ok(par[0]!.issuedNonce, 'the challenge carries DPoP-Nonce');
    assert.equal(par[0]!.proofNonce, undefined);
    assert.equal(par[1]!.proofNonce, par[0]!.issuedNonce, 'the retry carries the nonce it was given');
    const token = seen.filter((exchange) => exchange.path === '/token');
    assert.deepEqual(
      token.map(({ status, error }) => [status, error]),
      [
        [400, 'use_dpop_nonce'],
        [200, undefined],
      ],
    );
    assert.equal(token[1]!.proofNonce, token[0]!.issuedNonce);
  });

  test('the consent API refuses a proof with no, an old or a forged nonce with the challenge, and writes nothing', async () => {
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const { access_token: token } = await oidc.clientCredentialsGrant(
      tpp.config,
      { scope: 'accounts' },
      { DPoP: oidc.getDPoPHandle(tpp.config, keys) },
    );
    const url = new URL(ACCOUNT_ACCESS, assent.issuer).href;
    const secret = dpopNonceSecret({ cookie: [await cookieKeyOf(assent)] });
    const before = await consentCount(assent.db);
    const post = async (nonce?: string) =>
      fetch(url, {
        method: 'POST',
        headers: {
          authorization: `DPoP ${token}`,
          dpop: await proofOf(keys, 'POST', url, token, nonce),
          'content-type': 'application/json',
          'x-idempotency-key': randomUUID(),
        },
        body: JSON.stringify(accountAccessRequest()),
        dispatcher: tpp.agent,
      });

    let fresh = '';
    for (const [nonce, why] of [
      [undefined, 'a proof without a nonce'],
      [nonceOfStep(secret, currentStep() - 10), 'a nonce ten minutes old'],
      [nonceOfStep(Buffer.alloc(32, 7), currentStep() + 1), 'a nonce of another secret'],
      ['forged', 'a made-up nonce'],
    ] as const) {
      const response = await post(nonce);
      assert.equal(response.status, 401, why);
      assert.match(response.headers.get('www-authenticate') ?? '', /^DPoP error="use_dpop_nonce"/, why);
      fresh = response.headers.get('dpop-nonce') ?? '';
      assert.ok(fresh, `${why}: DPoP-Nonce is sent`);
      const body = (await response.json()) as { Code: string; Errors: { ErrorCode: string; Path: string }[] };
      assert.equal(body.Errors[0]!.ErrorCode, 'UK.OBIE.Header.Invalid', why);
      assert.equal(body.Errors[0]!.Path, 'DPoP', why);
    }
    assert.equal(await consentCount(assent.db), before, 'nothing was written');

    const created = await post(fresh);
    assert.equal(created.status, 201, await created.clone().text());
    assert.equal(created.headers.get('dpop-nonce'), null, 'the newest nonce needs no successor yet');
    assert.equal(await consentCount(assent.db), before + 1);

    // A nonce of the current minute still works, and the answer hands over the next one.
    const rolling = await post(nonceOfStep(secret, currentStep()));
    assert.equal(rolling.status, 201);
    assert.equal(rolling.headers.get('dpop-nonce'), nonceOfStep(secret, currentStep() + 1));
  });

  test("the TPP helpers follow the consent API's challenge as openid-client does", async () => {
    const response = await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() });
    assert.equal(response.status, 201);
  });

  test('Grant Management answers the challenge in OAuth JSON', async () => {
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const { access_token: token } = await oidc.clientCredentialsGrant(
      tpp.config,
      { scope: SCOPE.grantManagementQuery },
      { DPoP: oidc.getDPoPHandle(tpp.config, keys) },
    );
    const url = new URL(`${GRANTS_PATH}/${randomUUID()}`, assent.issuer).href;
    const response = await fetch(url, {
      headers: { authorization: `DPoP ${token}`, dpop: await proofOf(keys, 'GET', url, token) },
      dispatcher: tpp.agent,
    });
    assert.equal(response.status, 401);
    assert.ok(response.headers.get('dpop-nonce'));
    assert.deepEqual(Object.keys((await response.json()) as object), ['error', 'error_description']);
    const retried = await fetch(url, {
      headers: { authorization: `DPoP ${token}`, dpop: await proofOf(keys, 'GET', url, token, response.headers.get('dpop-nonce')!) },
      dispatcher: tpp.agent,
    });
    assert.equal(retried.status, 404, 'past the guard: the grant is unknown');
  });
});

describe('DPOP_NONCES=off: proofs carry no nonce, as before', () => {
  const assent = useAssent({ DPOP_NONCES: 'off' });
  const tpp = useTpp(assent);

  test('the token endpoint and the consent API take a proof without a nonce and hand out none', async () => {
    const seen = recordExchanges(tpp);
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const { access_token: token } = await oidc.clientCredentialsGrant(
      tpp.config,
      { scope: 'accounts' },
      { DPoP: oidc.getDPoPHandle(tpp.config, keys) },
    );
    assert.deepEqual(
      seen.map(({ status, issuedNonce }) => [status, issuedNonce]),
      [[200, null]],
    );
    const url = new URL(ACCOUNT_ACCESS, assent.issuer).href;
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `DPoP ${token}`,
        dpop: await proofOf(keys, 'POST', url, token),
        'content-type': 'application/json',
        'x-idempotency-key': randomUUID(),
      },
      body: JSON.stringify(accountAccessRequest()),
      dispatcher: tpp.agent,
    });
    assert.equal(response.status, 201, await response.clone().text());
    assert.equal(response.headers.get('dpop-nonce'), null);
  });
});

/** The cookie key every instance on the database shares, which the nonce secret derives from. */
async function cookieKeyOf(assent: { db: Db }): Promise<string> {
  const row = await assent.db
    .selectFrom('server_secret')
    .select('material')
    .where('kind', '=', 'cookie')
    .orderBy('created_at', 'desc')
    .executeTakeFirstOrThrow();
  return String(row.material.key);
}

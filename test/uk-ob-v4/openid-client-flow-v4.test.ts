import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { tlsAgent } from '../support/assent.ts';
import { ACCOUNT_ACCESS_V4, accountAccessRequest, statusOf } from '../support/consent-api.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { useAssent, useConsentApi, useResourceServer, useTpp } from '../support/fixture.ts';
import { customerWithAccounts, intentClaims } from '../support/granted-consents.ts';
import { pushAuthorizationRequest, redeemCode } from '../support/tpp.ts';

/**
 * Issue 29's complete flow for a v4.0 consent, with `openid-client` as the TPP: the account-access
 * consent created through v4.0, bound at PAR (JAR, PKCE, DPoP), approved by the customer, the code
 * redeemed, the token introspected to the consent, and v4.0's DELETE ending the token and its refresh.
 */
describe('a UK OB v4.0 account-access consent, end to end with openid-client', () => {
  const assent = useAssent();
  const tpp = useTpp(assent);
  const api = useConsentApi(assent, tpp);
  const rs = useResourceServer(assent);

  test('created through v4.0, authorised by PAR and the customer, introspected, and killed by the v4.0 DELETE', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const created = await api.call('POST', ACCOUNT_ACCESS_V4, { body: accountAccessRequest() });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(statusOf(created), 'AWAU');
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;

    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', claims: intentClaims(consentId) }, { DPoP: dpop });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const page = await browser.signIn(request.url, customer);
    const callback = await browser.submit(page, 'confirm', { [`account:${current.id}`]: 'on' });
    assert.ok(callback.url.searchParams.get('code'), `expected a code, got ${callback.url}`);
    const tokens = await redeemCode(tpp, callback.url, request, { dpop, idTokenExpected: true });
    assert.equal(tokens.claims()?.openbanking_intent_id, consentId);
    assert.equal(statusOf(await api.call('GET', `${ACCOUNT_ACCESS_V4}/${consentId}`)), 'AUTH');

    const introspected = await rs.introspect(tokens.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.consent_id, consentId);
    assert.equal(introspected.standard, 'uk_ob_v4');
    assert.deepEqual(introspected.account_ids, [current.id]);
    assert.deepEqual(introspected.permissions, accountAccessRequest().Data.Permissions);
    const refreshed = await oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!, undefined, { DPoP: dpop });
    assert.equal((await rs.introspect(refreshed.access_token)).active, true, 'alive until the DELETE');

    assert.equal((await api.call('DELETE', `${ACCOUNT_ACCESS_V4}/${consentId}`)).status, 204);
    assert.equal((await rs.introspect(tokens.access_token)).active, false);
    assert.equal((await rs.introspect(refreshed.access_token)).active, false);
    await assert.rejects(
      oidc.refreshTokenGrant(tpp.config, refreshed.refresh_token!, undefined, { DPoP: dpop }),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_grant',
    );
    assert.equal(statusOf(await api.call('GET', `${ACCOUNT_ACCESS_V4}/${consentId}`)), 'CANC');
  });
});

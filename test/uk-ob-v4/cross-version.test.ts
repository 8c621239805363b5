import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { auditHistory, verifyAuditChain } from '../../src/audit/audit-trail.ts';
import { getConsent } from '../../src/consents/consent-service.ts';
import { tlsAgent } from '../support/assent.ts';
import { ACCOUNT_ACCESS, ACCOUNT_ACCESS_V4, accountAccessRequest, statusOf } from '../support/consent-api.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { useAssent, useConsentApi, useResourceServer, useTpp } from '../support/fixture.ts';
import { customerWithAccounts, grantConsent, intentClaims } from '../support/granted-consents.ts';
import { pushAuthorizationRequest, redeemCode } from '../support/tpp.ts';

/**
 * One consent, either version (issue 29): a consent keeps its ConsentId, audit chain, grant and tokens
 * whichever UK OB version reads or deletes it, and a v4.0 consent binds into the authorization flow
 * exactly as a v3.1 one does.
 */
describe('UK OB v3.1 and v4.0 on one consent', () => {
  const assent = useAssent();
  const tpp = useTpp(assent);
  const api = useConsentApi(assent, tpp);
  const rs = useResourceServer(assent);

  test('a v3.1 consent is read through v4.0 with its tokens untouched, then revoked through v4.0 with them', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const { consentId, tokens, dpop } = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current] });
    const history = await auditHistory(assent.db, 'consent', consentId);
    assert.deepEqual(
      history.map((event) => event.event),
      ['consent.created', 'consent.authorised'],
    );
    const grantId = (await getConsent(assent.db, consentId))!.grantId;

    // Read through v4.0: the same consent in v4.0's words; reading writes nothing and touches no token.
    const asV4 = await api.call('GET', `${ACCOUNT_ACCESS_V4}/${consentId}`);
    assert.equal(asV4.status, 200);
    assert.equal(statusOf(asV4), 'AUTH');
    const asV3 = await api.call('GET', `${ACCOUNT_ACCESS}/${consentId}`);
    assert.deepEqual(
      (asV4.body as { Data: { Permissions: string[] } }).Data.Permissions,
      (asV3.body as { Data: { Permissions: string[] } }).Data.Permissions,
    );
    assert.deepEqual(await auditHistory(assent.db, 'consent', consentId), history);
    const live = await rs.introspect(tokens.access_token);
    assert.equal(live.active, true);
    assert.equal(live.consent_id, consentId);
    assert.equal(live.standard, 'uk_ob_v3', 'the version that created it');
    const refreshed = await oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!, undefined, { DPoP: dpop });
    assert.equal((await rs.introspect(refreshed.access_token)).active, true);
    assert.equal((await getConsent(assent.db, consentId))!.grantId, grantId, 'the same grant');

    // Deleted through v4.0: revoked with every token, by the TPP, on the same audit chain.
    assert.equal((await api.call('DELETE', `${ACCOUNT_ACCESS_V4}/${consentId}`)).status, 204);
    assert.equal((await rs.introspect(refreshed.access_token)).active, false);
    assert.equal((await rs.introspect(tokens.access_token)).active, false);
    await assert.rejects(
      oidc.refreshTokenGrant(tpp.config, refreshed.refresh_token!, undefined, { DPoP: dpop }),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_grant',
    );
    assert.equal(statusOf(await api.call('GET', `${ACCOUNT_ACCESS_V4}/${consentId}`)), 'CANC');
    assert.equal(statusOf(await api.call('GET', `${ACCOUNT_ACCESS}/${consentId}`)), 'Revoked');
    const after = await auditHistory(assent.db, 'consent', consentId);
    assert.deepEqual(
      after.map((event) => [event.event, event.actor.kind]),
      [
        ['consent.created', 'tpp'],
        ['consent.authorised', 'customer'],
        ['consent.revoked', 'tpp'],
      ],
    );
    assert.deepEqual(await verifyAuditChain(assent.db, 'consent', consentId), { valid: true, length: 3 });
    const row = await assent.db
      .selectFrom('consent')
      .select(['standard', 'ended_by'])
      .where('id', '=', consentId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { standard: 'uk_ob_v3', ended_by: 'tpp' }, 'reading and deleting in v4.0 leave its version as it was');
  });

  test('a v4.0 consent binds by openbanking_intent_id (openid-client), is introspected and looked up as one, and v3.1 revokes it', async () => {
    const { customer, current, savings } = await customerWithAccounts(assent);
    const { consentId, tokens } = await grantConsent(assent, tpp, customer, {
      type: 'account_access',
      accounts: [current, savings],
      version: 'v4.0',
    });
    assert.equal(tokens.claims()?.openbanking_intent_id, consentId);
    assert.equal(statusOf(await api.call('GET', `${ACCOUNT_ACCESS_V4}/${consentId}`)), 'AUTH');
    const introspected = await rs.introspect(tokens.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.consent_id, consentId);
    assert.equal(introspected.standard, 'uk_ob_v4');
    assert.deepEqual((introspected.account_ids as string[]).toSorted(), [current.id, savings.id].toSorted());
    assert.deepEqual(introspected.permissions, accountAccessRequest().Data.Permissions);
    const looked = await rs.call('GET', `/bank/consents/${consentId}`);
    assert.equal(looked.status, 200);
    assert.equal((looked.body as { Data: { Standard: string; Status: string } }).Data.Standard, 'uk_ob_v4');

    assert.equal((await api.call('DELETE', `${ACCOUNT_ACCESS}/${consentId}`)).status, 204);
    assert.equal((await rs.introspect(tokens.access_token)).active, false);
    assert.equal(statusOf(await api.call('GET', `${ACCOUNT_ACCESS_V4}/${consentId}`)), 'CANC');
  });

  test('a v4.0 consent binds by authorization_details consent_id; once deleted it binds no more', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const created = await api.call('POST', ACCOUNT_ACCESS_V4, { body: accountAccessRequest() });
    assert.equal(created.status, 201);
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const details = JSON.stringify([{ type: 'account_information', consent_id: consentId }]);
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', authorization_details: details }, { DPoP: dpop });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const page = await browser.signIn(request.url, customer);
    const callback = await browser.submit(page, 'confirm', { [`account:${current.id}`]: 'on' });
    assert.ok(callback.url.searchParams.get('code'), `expected a code, got ${callback.url} ${callback.body.slice(0, 300)}`);
    const tokens = await redeemCode(tpp, callback.url, request, { dpop });
    assert.deepEqual(tokens.authorization_details, [{ type: 'account_information', consent_id: consentId }]);
    const consent = await getConsent(assent.db, consentId);
    assert.equal(consent?.status, 'Authorised');
    assert.equal(consent?.standard, 'uk_ob_v4');
    assert.deepEqual(consent?.selectedAccountIds, [current.id]);
    assert.equal(statusOf(await api.call('GET', `${ACCOUNT_ACCESS_V4}/${consentId}`)), 'AUTH');

    // Withdrawn, it is refused at PAR as a v3.1 consent would be.
    assert.equal((await api.call('DELETE', `${ACCOUNT_ACCESS_V4}/${consentId}`)).status, 204);
    await assert.rejects(pushAuthorizationRequest(tpp, { scope: 'openid accounts', authorization_details: details }), (error: Error) =>
      /Revoked/.test(String((error as oidc.ResponseBodyError).error_description ?? error.message)),
    );
  });

  test('a v4.0 consent is re-authenticated as a v3.1 one: the same ConsentId in a new grant, the old tokens dead', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const first = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current], version: 'v4.0' });
    const before = await getConsent(assent.db, first.consentId);
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const request = await pushAuthorizationRequest(
      tpp,
      { scope: 'openid accounts', claims: intentClaims(first.consentId) },
      { DPoP: dpop },
    );
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const page = await browser.signIn(request.url, customer);
    const callback = await browser.submit(page, 'confirm', { [`account:${current.id}`]: 'on' });
    const second = await redeemCode(tpp, callback.url, request, { dpop, idTokenExpected: true });
    assert.equal(second.claims()?.openbanking_intent_id, first.consentId);

    const after = await getConsent(assent.db, first.consentId);
    assert.equal(after?.status, 'Authorised');
    assert.equal(after?.standard, 'uk_ob_v4');
    assert.notEqual(after?.grantId, before?.grantId);
    assert.equal((await rs.introspect(first.tokens.access_token)).active, false);
    assert.equal((await rs.introspect(second.access_token)).active, true);
    assert.equal(statusOf(await api.call('GET', `${ACCOUNT_ACCESS_V4}/${first.consentId}`)), 'AUTH');
    assert.deepEqual(
      (await auditHistory(assent.db, 'consent', first.consentId)).map((event) => event.event),
      ['consent.created', 'consent.authorised', 'consent.reauthorised'],
    );
  });
});

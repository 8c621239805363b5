import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { getConsent, TOKEN_REVOKED } from '../../src/consents/consent-service.ts';
import { up as unbindConsentTokens } from '../../migrations/2026_12_07_1700_consent_tokens_outlive_sessions.ts';
import { tlsAgent } from '../support/assent.ts';
import { ACCOUNT_ACCESS, accountAccessRequest } from '../support/consent-api.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import type { TestCustomer } from '../support/customers.ts';
import { customerWithAccounts, intentClaims } from '../support/granted-consents.ts';
import { pushAuthorizationRequest, redeemCode } from '../support/tpp.ts';
import { useAssent, useConsentApi, useResourceServer, useTpp } from '../support/fixture.ts';

/**
 * A consent-bound grant belongs to its consent, not to the browser that approved it: the customer's
 * sign-in session at the bank ending, signing out, or approving something else for the same TPP in the
 * same browser changes nothing for it; and no later authorization adds to it.
 */

const isInvalidGrant = (error: oidc.ResponseBodyError) => error.error === 'invalid_grant';
const DAY = 86_400;
const consentIdOf = (body: unknown) => (body as { Data: { ConsentId: string } }).Data.ConsentId;

describe('a consent-bound grant lives with its consent, not with the browser session', () => {
  const assent = useAssent();
  const tpp = useTpp(assent);
  const api = useConsentApi(assent, tpp);
  const rs = useResourceServer(assent);

  /** Creates an account-access consent through the UK OB API, has `browser` sign in and approve `account` for it, and redeems the code. */
  async function authoriseIn(
    browser: CustomerAgent,
    customer: TestCustomer,
    account: { id: string },
    consent: Record<string, unknown> = {},
  ) {
    const consentId = consentIdOf((await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest(consent) })).body);
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', claims: intentClaims(consentId) }, { DPoP: dpop });
    const page = await browser.signIn(request.url, customer);
    const callback = await browser.submit(page, 'confirm', { [`account:${account.id}`]: 'on' });
    assert.ok(callback.url.searchParams.get('code'), `expected a code, got ${callback.url} ${callback.body.slice(0, 300)}`);
    const tokens = await redeemCode(tpp, callback.url, request, { dpop, idTokenExpected: true });
    return { consentId, tokens, dpop };
  }

  const newBrowser = () => new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
  const refresh = (refreshToken: string, dpop: oidc.DPoPHandle) =>
    oidc.refreshTokenGrant(tpp.config, refreshToken, undefined, { DPoP: dpop });

  test('the refresh token is not bound to the browser session: it outlives the session and sign-out', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const browser = newBrowser();
    const { consentId, tokens, dpop } = await authoriseIn(browser, customer, current);
    const stored = await assent.db
      .selectFrom('oidc_model')
      .select('payload')
      .where('model', '=', 'RefreshToken')
      .where('grant_id', '=', (await getConsent(assent.db, consentId))!.grantId!)
      .executeTakeFirstOrThrow();
    assert.notEqual(
      (stored.payload as { expiresWithSession?: boolean }).expiresWithSession,
      true,
      'a consent-bound refresh token must not expire with the session',
    );

    assert.equal((await browser.signOut()).status, 200);
    // The session is gone from the store too, as when its TTL passes.
    await assent.db.deleteFrom('oidc_model').where('model', '=', 'Session').execute();
    const refreshed = await refresh(tokens.refresh_token!, dpop);
    const introspected = await rs.introspect(refreshed.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.consent_id, consentId);
    assert.equal((await rs.introspect(tokens.access_token)).active, true, 'the first access token still lives');
    assert.equal((await getConsent(assent.db, consentId))?.status, 'Authorised');
  });

  test('the refresh token lives as long as the consent, past REFRESH_TOKEN_TTL: to its expiry, or open-ended', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const expiresAt = new Date(Date.now() + 200 * DAY * 1000);
    const dated = await authoriseIn(newBrowser(), customer, current, { ExpirationDateTime: expiresAt.toISOString() });
    const datedRefresh = await rs.introspect(dated.tokens.refresh_token!);
    assert.equal(datedRefresh.active, true);
    assert.ok(
      Math.abs(datedRefresh.exp! - Math.floor(expiresAt.getTime() / 1000)) <= 2,
      `the refresh token ends with the consent, not after REFRESH_TOKEN_TTL (${datedRefresh.exp})`,
    );
    assert.ok((await rs.introspect(dated.tokens.access_token)).exp! < Date.now() / 1000 + DAY, 'access tokens stay short');

    const open = await authoriseIn(newBrowser(), customer, current, { ExpirationDateTime: undefined });
    assert.equal((await getConsent(assent.db, open.consentId))?.expiresAt, null);
    const openRefresh = await rs.introspect(open.tokens.refresh_token!);
    assert.ok(openRefresh.exp! > Date.now() / 1000 + 10 * 365 * DAY, "an open-ended consent's refresh token ends only with the consent");
  });

  test("the migration rescues tokens issued before: off the session, and to the consent's end", async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const expiresAt = new Date(Date.now() + 200 * DAY * 1000);
    const { consentId, tokens, dpop } = await authoriseIn(newBrowser(), customer, current, { ExpirationDateTime: expiresAt.toISOString() });
    const grantId = (await getConsent(assent.db, consentId))!.grantId!;
    // As the earlier code stored them: bound to a session that has since gone, cut to 90 days.
    const cut = Math.floor(Date.now() / 1000) + 90 * DAY;
    await sql`update oidc_model set payload = payload || ${JSON.stringify({ expiresWithSession: true, sessionUid: 'gone' })}::jsonb where grant_id = ${grantId} and model in ('AccessToken', 'RefreshToken')`.execute(
      assent.db,
    );
    await sql`update oidc_model set expires_at = to_timestamp(${cut}), payload = jsonb_set(payload, '{exp}', to_jsonb(${cut}::bigint)) where (model = 'Grant' and id = ${grantId}) or (model = 'RefreshToken' and grant_id = ${grantId})`.execute(
      assent.db,
    );
    await assert.rejects(refresh(tokens.refresh_token!, dpop), isInvalidGrant, 'stranded, as before the fix');

    await unbindConsentTokens(assent.db);
    const refreshed = await refresh(tokens.refresh_token!, dpop);
    assert.equal((await rs.introspect(refreshed.access_token)).consent_id, consentId);
    const rows = await assent.db
      .selectFrom('oidc_model')
      .select(['model', 'payload', 'expires_at'])
      .where((eb) => eb.or([eb('id', '=', grantId), eb('grant_id', '=', grantId)]))
      .where('model', 'in', ['Grant', 'RefreshToken'])
      .execute();
    for (const row of rows) {
      assert.ok(Math.abs(row.expires_at!.getTime() - expiresAt.getTime()) < 2000, `${row.model} lasts until the consent's end`);
      assert.equal((row.payload as { expiresWithSession?: boolean }).expiresWithSession, undefined);
    }
  });

  for (const revoked of ['refresh_token', 'access_token'] as const) {
    test(`RFC 7009 revocation of the ${revoked} ends the consent: Revoked with a reason, audited, no grant left behind`, async () => {
      const { customer, current } = await customerWithAccounts(assent);
      const { consentId, tokens, dpop } = await authoriseIn(newBrowser(), customer, current);
      const grantId = (await getConsent(assent.db, consentId))!.grantId!;
      await oidc.tokenRevocation(tpp.config, revoked === 'refresh_token' ? tokens.refresh_token! : tokens.access_token);

      const consent = await getConsent(assent.db, consentId);
      assert.equal(consent?.status, 'Revoked');
      const read = await api.call('GET', `${ACCOUNT_ACCESS}/${consentId}`);
      assert.equal((read.body as { Data: { Status: string } }).Data.Status, 'Revoked');
      const history = await auditHistory(assent.db, 'consent', consentId);
      const ended = history.find((event) => event.event === 'consent.revoked');
      assert.ok(ended, 'the revocation is audited');
      assert.equal(ended.actor.kind, 'tpp');
      assert.equal((ended.details as { reason?: string }).reason, TOKEN_REVOKED);
      assert.equal((await rs.introspect(tokens.access_token)).active, false);
      await assert.rejects(refresh(tokens.refresh_token!, dpop), isInvalidGrant);
      const left = await assent.db.selectFrom('oidc_model').select('id').where('grant_id', '=', grantId).execute();
      assert.deepEqual(left, [], 'nothing of the grant is left');
      assert.equal(
        await assent.db.selectFrom('oidc_model').select('id').where('model', '=', 'Grant').where('id', '=', grantId).executeTakeFirst(),
        undefined,
      );
    });
  }

  test('RFC 7009 revocation of a token of a grant without a consent changes no consent', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const browser = newBrowser();
    const held = await authoriseIn(browser, customer, current);
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid' }, { DPoP: dpop });
    const callback = await browser.submit(await browser.signIn(request.url, customer), 'confirm');
    const plain = await redeemCode(tpp, callback.url, request, { dpop, idTokenExpected: true });
    await oidc.tokenRevocation(tpp.config, plain.refresh_token!);
    assert.equal((await rs.introspect(plain.access_token)).active, false);
    assert.equal((await getConsent(assent.db, held.consentId))?.status, 'Authorised');
    assert.equal((await rs.introspect(held.tokens.access_token)).active, true);
  });
});

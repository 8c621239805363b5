import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { loadConfig } from '../../src/config.ts';
import { getConsent } from '../../src/consents/consent-service.ts';
import { postgresAccountDirectory } from '../../src/customers/account-directory.ts';
import { consentSource } from '../../src/dashboard/consent-source.ts';
import { detailView } from '../../src/dashboard/consent-view.ts';
import { registeredTpps } from '../../src/dashboard/tpp-names.ts';
import { wordingFor } from '../../src/wording/wording.ts';
import { type TestAssent } from '../support/assent.ts';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { ACCOUNT_ACCESS, DOMESTIC_PAYMENT } from '../support/consent-api.ts';
import { type ApprovedConsent, approveConsent, customerWithAccounts, grantConsent } from '../support/granted-consents.ts';
import { TestResourceServer } from '../support/resource-server.ts';
import { redeemCode, type TestTpp } from '../support/tpp.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';

/**
 * A consent's end and the tokens issued under it: a refresh racing the TPP's DELETE
 * either wins before the consent ends (and its token dies with it) or fails with invalid_grant; it
 * never leaves a token behind under the destroyed grant. And a code redeemed twice ends the
 * consent with its grant (Revoked, "authorization code reused"), never leaving it Authorised and dead.
 */

const redeemOf = (tpp: TestTpp) => (approved: ApprovedConsent) =>
  redeemCode(tpp, approved.callback, approved.request, { dpop: approved.dpop, idTokenExpected: true });

const isInvalidGrant = (error: oidc.ResponseBodyError) => error.error === 'invalid_grant';

const rowsUnderGrant = async (assent: TestAssent, grantId: string) =>
  Number(
    (
      await assent.db
        .selectFrom('oidc_model')
        .select(sql<string>`count(*)`.as('n'))
        .where('grant_id', '=', grantId)
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('refresh racing the end of its consent', () => {
  let redeem: ReturnType<typeof redeemOf>;
  const assent = useAssent();
  const tpp = useTpp(assent);
  const api = useConsentApi(assent, tpp);
  before(async () => {
    redeem = redeemOf(tpp);
  });

  test("32 refreshes racing the TPP's DELETE: each is 200 or invalid_grant, and nothing survives under the destroyed grant", async () => {
    let won = 0;
    let refused = 0;
    for (let round = 0; round < 4; round += 1) {
      const { customer, current } = await customerWithAccounts(assent);
      const granted = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current] });
      const grantId = (await getConsent(assent.db, granted.consentId))!.grantId!;
      const refresh = () => oidc.refreshTokenGrant(tpp.config, granted.tokens.refresh_token!, undefined, { DPoP: granted.dpop });
      const early = Array.from({ length: 16 }, refresh);
      const deletion = api.call('DELETE', `${ACCOUNT_ACCESS}/${granted.consentId}`);
      const late = Array.from({ length: 16 }, refresh);
      const results = await Promise.allSettled([...early, ...late]);
      assert.equal((await deletion).status, 204);

      for (const result of results) {
        if (result.status === 'fulfilled') won += 1;
        else {
          refused += 1;
          assert.equal((result.reason as oidc.ResponseBodyError).error, 'invalid_grant', String(result.reason));
        }
      }
      assert.equal((await getConsent(assent.db, granted.consentId))?.status, 'Revoked');
      assert.equal(await rowsUnderGrant(assent, grantId), 0, `round ${round}: rows left under the destroyed grant`);
      for (const result of results) {
        if (result.status === 'fulfilled')
          assert.equal((await oidc.tokenIntrospection(tpp.config, result.value.access_token)).active, false);
      }
    }
    assert.equal(won + refused, 4 * 32, `${won} won, ${refused} refused`);
  });

  /** What the TPP, the bank and the audit trail say about a consent ended by code reuse. */
  async function assertEndedByCodeReuse(consentId: string, path: string) {
    const consent = await getConsent(assent.db, consentId);
    assert.equal(consent?.status, 'Revoked');
    assert.equal(consent?.statusReason, 'authorization code reused');
    assert.equal(await rowsUnderGrant(assent, consent!.grantId!), 0);

    const seen = await api.call('GET', `${path}/${consentId}`);
    assert.equal(seen.status, 200);
    const data = (seen.body as { Data: { Status: string; StatusReason: unknown } }).Data;
    assert.equal(data.Status, 'Revoked');
    assert.deepEqual(data.StatusReason, [{ StatusReasonDescription: 'authorization code reused' }]);

    const bank = await (await TestResourceServer.create(assent)).call('GET', `/bank/consents/${consentId}`);
    assert.equal(bank.status, 200);
    assert.equal((bank.body as { Data: { Status: string } }).Data.Status, 'Revoked');
    assert.equal((bank.body as { Data: { StatusReason: string } }).Data.StatusReason, 'authorization code reused');

    // The customer's dashboard tells them why in the consent's history.
    const consents = consentSource(assent.db);
    const mine = await consents.findForCustomer(consent!.customerId!, consentId);
    const english = wordingFor('en', loadConfig({}).branding);
    const view = await detailView(
      { consents, accounts: postgresAccountDirectory(assent.db), tpps: registeredTpps(assent.db) },
      english,
      consent!.customerId!,
      mine!,
    );
    assert.ok(
      view.history.some((entry) => entry.who === 'Assent Demo Bank' && /Ended it for your security/.test(entry.what)),
      JSON.stringify(view.history),
    );

    const history = await auditHistory(assent.db, 'consent', consentId);
    const ended = history.filter((entry) => entry.event === 'consent.revoked');
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!.actor.kind, 'system');
    assert.equal(ended[0]!.details.reason, 'authorization code reused');
  }

  test('a payment consent whose code is redeemed twice ends Revoked ("authorization code reused"), seen by TPP, bank and audit', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const approved = await approveConsent(assent, tpp, customer, { type: 'domestic_payment', accounts: [current] });
    const tokens = await redeem(approved);
    await assert.rejects(redeem(approved), isInvalidGrant);
    assert.equal((await oidc.tokenIntrospection(tpp.config, tokens.access_token)).active, false);
    await assertEndedByCodeReuse(approved.consentId, DOMESTIC_PAYMENT);
  });

  test('32 concurrent redemptions of one code: at most one 200, the rest invalid_grant, and the consent ends once', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const approved = await approveConsent(assent, tpp, customer, { type: 'account_access', accounts: [current] });
    const results = await Promise.allSettled(Array.from({ length: 32 }, () => redeem(approved)));
    const winners = results.filter((result) => result.status === 'fulfilled');
    assert.ok(winners.length <= 1);
    for (const result of results)
      if (result.status === 'rejected')
        assert.equal((result.reason as oidc.ResponseBodyError).error, 'invalid_grant', String(result.reason));
    for (const winner of winners) assert.equal((await oidc.tokenIntrospection(tpp.config, winner.value.access_token)).active, false);
    await assertEndedByCodeReuse(approved.consentId, ACCOUNT_ACCESS);
  });
});

/**
 * With rotation on, a spent refresh token presented again (a stolen copy, RFC 9700 4.14.2) ends the
 * consent in its grant like a reused code: the library catches the sequential case, the adapter the
 * race; either way the consent is Revoked with the reason, once, never Authorised with no grant.
 */
describe('a rotated refresh token presented again', () => {
  const assent = useAssent({ REFRESH_TOKEN_ROTATION: 'true' });
  const tpp = useTpp(assent);

  async function assertEndedByRefreshReuse(consentId: string) {
    const consent = await getConsent(assent.db, consentId);
    assert.equal(consent?.status, 'Revoked');
    assert.equal(consent?.statusReason, 'refresh token reused');
    assert.equal(await rowsUnderGrant(assent, consent!.grantId!), 0);
    const ended = (await auditHistory(assent.db, 'consent', consentId)).filter((entry) => entry.event === 'consent.revoked');
    assert.equal(ended.length, 1, 'the consent ends once');
    assert.equal(ended[0]!.actor.kind, 'system');
    assert.equal(ended[0]!.details.reason, 'refresh token reused');

    const consents = consentSource(assent.db);
    const mine = await consents.findForCustomer(consent!.customerId!, consentId);
    const view = await detailView(
      { consents, accounts: postgresAccountDirectory(assent.db), tpps: registeredTpps(assent.db) },
      wordingFor('en', loadConfig({}).branding),
      consent!.customerId!,
      mine!,
    );
    assert.ok(
      view.history.some((entry) => /already replaced was presented again/.test(entry.what)),
      JSON.stringify(view.history),
    );
  }

  test('the spent token again: invalid_grant, every token of the grant dead, the consent Revoked ("refresh token reused")', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const granted = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current] });
    const refresh = (token: string) => oidc.refreshTokenGrant(tpp.config, token, undefined, { DPoP: granted.dpop });
    const rotated = await refresh(granted.tokens.refresh_token!);
    assert.equal((await getConsent(assent.db, granted.consentId))?.status, 'Authorised', 'a normal rotation leaves the consent alone');

    await assert.rejects(refresh(granted.tokens.refresh_token!), isInvalidGrant);
    assert.equal((await oidc.tokenIntrospection(tpp.config, rotated.access_token)).active, false);
    await assert.rejects(refresh(rotated.refresh_token!), isInvalidGrant);
    await assertEndedByRefreshReuse(granted.consentId);
  });

  test('32 racers on one refresh token: at most one 200, and the consent ends once', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const granted = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current] });
    const results = await Promise.allSettled(
      Array.from({ length: 32 }, () =>
        oidc.refreshTokenGrant(tpp.config, granted.tokens.refresh_token!, undefined, { DPoP: granted.dpop }),
      ),
    );
    const winners = results.filter((result) => result.status === 'fulfilled');
    assert.ok(winners.length <= 1);
    for (const result of results)
      if (result.status === 'rejected')
        assert.equal((result.reason as oidc.ResponseBodyError).error, 'invalid_grant', String(result.reason));
    for (const winner of winners) assert.equal((await oidc.tokenIntrospection(tpp.config, winner.value.access_token)).active, false);
    await assertEndedByRefreshReuse(granted.consentId);
  });
});

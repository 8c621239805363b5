import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { getConsent } from '../src/consents/consent-service.ts';
import { type TestAssent, startTestAssent } from './support/assent.ts';
import { ACCOUNT_ACCESS, ConsentApiClient } from './support/consent-api.ts';
import { customerWithAccounts, grantConsent } from './support/granted-consents.ts';
import { createTestTpp, type TestTpp } from './support/tpp.ts';

/**
 * A consent's end and the tokens issued under it (issue 11 item 4): a refresh racing the TPP's DELETE
 * either wins before the consent ends (and its token dies with it) or fails with invalid_grant; it
 * never leaves a token behind under the destroyed grant.
 */

const rowsUnderGrant = async (assent: TestAssent, grantId: string) =>
  Number((await assent.db.selectFrom('oidc_model').select(sql<string>`count(*)`.as('n')).where('grant_id', '=', grantId).executeTakeFirstOrThrow()).n);

describe('refresh racing the end of its consent', () => {
  let assent: TestAssent;
  let tpp: TestTpp;
  let api: ConsentApiClient;
  before(async () => {
    assent = await startTestAssent();
    tpp = await createTestTpp(assent);
    api = await ConsentApiClient.create(assent, tpp);
  });
  after(async () => { await assent?.stop(); });

  test('32 refreshes racing the TPP\'s DELETE: each is 200 or invalid_grant, and nothing survives under the destroyed grant', async () => {
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
        if (result.status === 'fulfilled') assert.equal((await oidc.tokenIntrospection(tpp.config, result.value.access_token)).active, false);
      }
    }
    assert.equal(won + refused, 4 * 32, `${won} won, ${refused} refused`);
  });
});

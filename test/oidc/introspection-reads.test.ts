import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ACCOUNT_ACCESS, ConsentApiClient } from '../support/consent-api.ts';
import { customerWithAccounts, grantConsent } from '../support/granted-consents.ts';
import { statementsDuring } from '../support/statements.ts';
import { useAssent, useResourceServer, useTpp } from '../support/fixture.ts';

/**
 * A resource server's introspection of a consent-bound access token reads the token, its grant and the
 * standing of the grant's consents in one statement, and that one read still sees every revocation
 * committed before the introspection started.
 */

describe('consent-bound introspection reads token, grant, consent standing and session in one statement', () => {
  const assent = useAssent();
  const tpp = useTpp(assent);
  const rs = useResourceServer(assent);

  const grant = async () => {
    const { customer, current } = await customerWithAccounts(assent);
    return grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current] });
  };

  test('one statement reads the token with its grant, consents and session; no separate grant, consent or session read', async () => {
    const { consentId, tokens } = await grant();
    assert.equal((await rs.introspect(tokens.access_token)).active, true, 'first introspection (notes the use, fills the client cache)');
    const statements = await statementsDuring(async () => {
      const introspected = await rs.introspect(tokens.access_token);
      assert.equal(introspected.active, true);
      assert.equal(introspected.consent_id, consentId);
    });
    const tokenReads = statements.filter((text) => text.includes('from "oidc_model"') && text.startsWith('select'));
    assert.equal(tokenReads.length, 1, `one read of oidc_model, got:\n${statements.join('\n')}`);
    assert.match(
      tokenReads[0]!,
      /left join lateral \(select "g"."id", "g"."payload" from "oidc_model" as "g"/,
      'the grant comes with the token',
    );
    assert.match(tokenReads[0]!, /from consent c where c\.grant_id/, 'the consent standing comes with the grant');
    assert.match(
      tokenReads[0]!,
      /left join lateral \(select "s"."payload" from "oidc_model" as "s"/,
      'the session of a session-bound token comes with it',
    );
    assert.deepEqual(
      statements.filter((text) => /from "consent"/.test(text)),
      [],
      'no separate consent read',
    );
  });

  test('a consent revoked through the consent API reads inactive at the next introspection', async () => {
    const { consentId, tokens } = await grant();
    assert.equal((await rs.introspect(tokens.access_token)).active, true);
    const api = await ConsentApiClient.create(assent, tpp);
    assert.equal((await api.call('DELETE', `${ACCOUNT_ACCESS}/${consentId}`)).status, 204);
    assert.deepEqual(await rs.introspect(tokens.access_token), { active: false });
  });

  test('a consent that left the grant, or whose expiry passed, reads inactive from the same one read', async () => {
    const left = await grant();
    const expired = await grant();
    for (const { tokens } of [left, expired]) assert.equal((await rs.introspect(tokens.access_token)).active, true);
    // The faults injected for real, the token and grant rows untouched: one consent no longer names the
    // grant, the other's expiry passed without the sweep having run.
    await assent.db.updateTable('consent').set({ grant_id: null }).where('id', '=', left.consentId).execute();
    await assent.db
      .updateTable('consent')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', expired.consentId)
      .execute();
    assert.deepEqual(await rs.introspect(left.tokens.access_token), { active: false });
    assert.deepEqual(await rs.introspect(expired.tokens.access_token), { active: false });
  });
});

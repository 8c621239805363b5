import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { sweepOrphanGrants } from '../../src/consents/consent-service.ts';
import { ACCOUNT_ACCESS, ConsentApiClient } from '../support/consent-api.ts';
import { customerWithAccounts, grantConsent } from '../support/granted-consents.ts';
import { createTestTpp } from '../support/tpp.ts';
import { useAssent } from '../support/fixture.ts';

describe('grants left behind by a crash between saving the grant and authorising the consent', () => {
  const assent = useAssent();

  /** What the consent step saves before it authorises: a grant naming the consent in its RAR details. */
  async function savedGrant(consentId: string | undefined, customerId: string, clientId: string) {
    const grant = new assent.provider.Grant({ accountId: customerId, clientId });
    grant.addOIDCScope('openid accounts');
    if (consentId) grant.addRar({ type: 'account_access', consent_id: consentId });
    return grant.save();
  }

  const age = (grantId: string) =>
    assent.db
      .updateTable('oidc_model')
      .set({ created_at: sql<Date>`now() - interval '1 hour'` as never })
      .where('model', '=', 'Grant')
      .where('id', '=', grantId)
      .execute();
  const grantExists = async (grantId: string) =>
    (await assent.db.selectFrom('oidc_model').select('id').where('model', '=', 'Grant').where('id', '=', grantId).executeTakeFirst()) !==
    undefined;

  test('the sweep deletes an old orphan and what hangs under it, and leaves held, fresh and consent-free grants alone', async () => {
    const tpp = await createTestTpp(assent);
    const { customer, current } = await customerWithAccounts(assent);
    const held = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current] });
    const heldGrantId = (
      await assent.db.selectFrom('consent').select('grant_id').where('id', '=', held.consentId).executeTakeFirstOrThrow()
    ).grant_id!;

    // The crash: a consent still AwaitingAuthorisation, and the grant saved for it.
    const api = await ConsentApiClient.create(assent, tpp);
    const created = await api.call('POST', ACCOUNT_ACCESS, { body: { Data: { Permissions: ['ReadAccountsBasic'] }, Risk: {} } });
    const strandedId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const orphan = await savedGrant(strandedId, customer.id, tpp.clientId);
    await assent.db
      .insertInto('oidc_model')
      .values({ model: 'AccessToken', id: `under-${orphan}`, grant_id: orphan, payload: JSON.stringify({ grantId: orphan }) })
      .execute();
    const fresh = await savedGrant(strandedId, customer.id, tpp.clientId);
    const withoutConsent = await savedGrant(undefined, customer.id, tpp.clientId);
    for (const id of [orphan, heldGrantId, withoutConsent]) await age(id);

    assert.equal(await sweepOrphanGrants(assent.db), 1);
    assert.equal(await grantExists(orphan), false, 'the orphan is gone');
    assert.equal(
      (await assent.db.selectFrom('oidc_model').select('id').where('grant_id', '=', orphan).execute()).length,
      0,
      'with everything under it',
    );
    assert.equal(await grantExists(heldGrantId), true, "the consent's own grant stays");
    assert.equal(await grantExists(fresh), true, 'a grant whose authorisation may still be under way stays');
    assert.equal(await grantExists(withoutConsent), true, "a grant that binds no consent is not the sweep's business");

    const introspected = await api.call('GET', `${ACCOUNT_ACCESS}/${held.consentId}`);
    assert.equal((introspected.body as { Data: { Status: string } }).Data.Status, 'Authorised');
  });
});

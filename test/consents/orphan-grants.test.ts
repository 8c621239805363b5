import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { Client } from 'pg';
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

  test('a sweep reads only the grants of its window (a day before the grace period ended), by index: never every grant stored', async () => {
    // Thousands of consent-bound grants, long held or long swept, as a bank's database holds millions of them.
    await sql`
      insert into oidc_model (model, id, payload, created_at)
      select 'Grant', 'stored-' || i, jsonb_build_object('rar', jsonb_build_array(jsonb_build_object('consent_id', 'c-' || i))),
             now() - interval '3 days'
      from generate_series(1, 20000) i`.execute(assent.db);
    await sql`analyze oidc_model`.execute(assent.db);
    const tpp = await createTestTpp(assent);
    const { customer } = await customerWithAccounts(assent);
    const api = await ConsentApiClient.create(assent, tpp);
    const created = await api.call('POST', ACCOUNT_ACCESS, { body: { Data: { Permissions: ['ReadAccountsBasic'] }, Risk: {} } });
    const orphan = await savedGrant((created.body as { Data: { ConsentId: string } }).Data.ConsentId, customer.id, tpp.clientId);
    await age(orphan);

    // The sweep's candidate statement, as sent, explained with its own values.
    const sent: { text: string; values: unknown[] }[] = [];
    const query = Client.prototype.query;
    Client.prototype.query = function recorded(this: Client, ...args: Parameters<typeof query>) {
      const config = args[0] as { text?: string; values?: unknown[] } | string;
      const text = typeof config === 'string' ? config : String(config.text);
      if (/for update skip locked/i.test(text))
        sent.push({ text, values: typeof config === 'string' ? (args[1] as unknown[]) : config.values! });
      return query.apply(this, args);
    } as typeof query;
    try {
      assert.equal(await sweepOrphanGrants(assent.db), 1, 'the orphan of the window is swept');
    } finally {
      Client.prototype.query = query;
    }
    assert.equal(await grantExists(orphan), false);
    assert.equal(await grantExists('stored-1'), true, 'grants before the window are not read, so not swept');
    assert.equal(sent.length, 1);
    const { rows } = await sql<{ 'QUERY PLAN': unknown }>`explain (format json) ${sql.raw(
      sent[0]!.text.replace(/\$(\d+)/g, (_, n: string) => sql.lit(String(sent[0]!.values[Number(n) - 1])).compile(assent.db).sql),
    )}`.execute(assent.db);
    type PlanNode = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: PlanNode[] };
    const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];
    const [{ Plan: plan }] = rows[0]!['QUERY PLAN'] as [{ Plan: PlanNode }];
    const grantReads = nodes(plan).filter((node) => node['Relation Name'] === 'oidc_model');
    assert.deepEqual(
      grantReads.map((node) => [node['Node Type'], node['Index Name']]),
      [['Index Scan', 'oidc_model_grant_created']],
      JSON.stringify(plan),
    );
  });
});

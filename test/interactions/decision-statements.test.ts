import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { claimDecisionWriting } from '../../src/interactions/decision-repository.ts';
import { nothingAlongside } from '../../src/interactions/sca-progress-repository.ts';
import { touchStoredInteraction } from '../support/interactions.ts';
import type { ModelRow } from '../../src/store/model-upsert.ts';
import { tlsAgent } from '../support/assent.ts';
import { ACCOUNT_ACCESS, accountAccessRequest, ConsentApiClient } from '../support/consent-api.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer } from '../support/customers.ts';
import { customerWithAccounts, intentClaims } from '../support/granted-consents.ts';
import { sentStatementsDuring, statementsDuring } from '../support/statements.ts';
import { pushAuthorizationRequest, redeemCode } from '../support/tpp.ts';
import { useAssent, useMigratedDb, useTpp } from '../support/fixture.ts';

/**
 * The consent decision POST in as few statements as its guarantees allow: with no consent
 * to change, the claim of the decision, the grant and the interaction result are one statement (no
 * transaction to open or commit); with a consent, one transaction claims first and writes grant and
 * result together in one statement before its commit.
 */

const grantRow = (id: string, interactionUid: string): ModelRow => ({
  model: 'Grant',
  id,
  payload: JSON.stringify({ jti: id, interactionUid }),
  expires_at: sql<Date>`now() + ${3600} * interval '1 second'`,
});
const interactionRow = (uid: string, result: Record<string, unknown>, expiring = true): ModelRow => ({
  model: 'Interaction',
  id: uid,
  payload: JSON.stringify({ jti: uid, result }),
  uid: null,
  expires_at: expiring ? sql<Date>`now() + ${600} * interval '1 second'` : null,
});

describe("claimDecisionWriting: the claim and the provider's rows in one statement, against Postgres", () => {
  const db = useMigratedDb();

  const rowOf = (model: string, id: string) =>
    db.selectFrom('oidc_model').select(['payload', 'expires_at']).where('model', '=', model).where('id', '=', id).executeTakeFirst();
  const grantsNamed = async (uid: string) =>
    Number(
      (
        await db
          .selectFrom('oidc_model')
          .select(sql<string>`count(*)`.as('n'))
          .where('model', '=', 'Grant')
          .where(sql`payload->>'interactionUid'`, '=', uid)
          .executeTakeFirstOrThrow()
      ).n,
    );

  test('the claim that wins writes every row (with and without expiry); a claim after it writes none and leaves the result', async () => {
    const uid = randomUUID();
    await touchStoredInteraction(db, uid, 300, nothingAlongside());
    const first = randomUUID();
    assert.equal(
      await claimDecisionWriting(db, uid, 'approved', 'client-a', [grantRow(first, uid), interactionRow(uid, { grantId: first })]),
      true,
    );
    const grant = await rowOf('Grant', first);
    assert.deepEqual(grant?.payload, { jti: first, interactionUid: uid });
    assert.ok(grant.expires_at && grant.expires_at.getTime() > Date.now() + 3500_000);
    assert.deepEqual((await rowOf('Interaction', uid))?.payload, { jti: uid, result: { grantId: first } });
    assert.deepEqual(await db.selectFrom('sca_interaction').select(['decision', 'client_id']).where('uid', '=', uid).executeTakeFirst(), {
      decision: 'approved',
      client_id: 'client-a',
    });

    const second = randomUUID();
    assert.equal(
      await claimDecisionWriting(db, uid, 'denied', 'client-b', [
        grantRow(second, uid),
        interactionRow(uid, { error: 'access_denied' }, false),
      ]),
      false,
    );
    assert.equal(await rowOf('Grant', second), undefined, 'a lost claim writes no grant');
    const result = await rowOf('Interaction', uid);
    assert.deepEqual(result?.payload, { jti: uid, result: { grantId: first } }, 'nor overwrites the first result');
    assert.ok(result.expires_at, 'nor its expiry');
    assert.deepEqual(await db.selectFrom('sca_interaction').select(['decision', 'client_id']).where('uid', '=', uid).executeTakeFirst(), {
      decision: 'approved',
      client_id: 'client-a',
    });
  });

  test('rows that never expire are written too (a list of nulls for expires_at)', async () => {
    const uid = randomUUID();
    await touchStoredInteraction(db, uid, 300, nothingAlongside());
    assert.equal(await claimDecisionWriting(db, uid, 'denied', 'client-a', [interactionRow(uid, { error: 'access_denied' }, false)]), true);
    assert.deepEqual(await rowOf('Interaction', uid), { payload: { jti: uid, result: { error: 'access_denied' } }, expires_at: null });
  });

  test('a statement that fails part way leaves nothing: no decision, no grant (one statement, all or nothing)', async () => {
    const uid = randomUUID();
    await touchStoredInteraction(db, uid, 300, nothingAlongside());
    const grantId = randomUUID();
    // The fault, injected for real: the result's payload is not JSON, so Postgres refuses its row.
    const broken: ModelRow = { ...interactionRow(uid, {}), payload: '{not json' };
    await assert.rejects(
      claimDecisionWriting(db, uid, 'approved', 'client-a', [grantRow(grantId, uid), broken]),
      /invalid input syntax for type json/,
    );
    assert.equal(await rowOf('Grant', grantId), undefined, 'no grant without its result');
    assert.deepEqual(
      await db.selectFrom('sca_interaction').select(['decision', 'client_id']).where('uid', '=', uid).executeTakeFirst(),
      { decision: null, client_id: null },
      'no decision without its grant',
    );
    const retried = randomUUID();
    assert.equal(
      await claimDecisionWriting(db, uid, 'approved', 'client-a', [grantRow(retried, uid), interactionRow(uid, { grantId: retried })]),
      true,
      'the decision is still to be taken',
    );
    assert.ok(await rowOf('Grant', retried));
  });

  test('32 concurrent claims: exactly one wins, and only its grant and its result are written', async () => {
    const uid = randomUUID();
    await touchStoredInteraction(db, uid, 300, nothingAlongside());
    const grantIds = Array.from({ length: 32 }, () => randomUUID());
    const won = await Promise.all(
      grantIds.map((id) =>
        claimDecisionWriting(db, uid, 'approved', 'client-a', [grantRow(id, uid), interactionRow(uid, { grantId: id })]),
      ),
    );
    assert.equal(won.filter(Boolean).length, 1);
    const winner = grantIds[won.indexOf(true)]!;
    assert.equal(await grantsNamed(uid), 1);
    assert.ok(await rowOf('Grant', winner));
    assert.deepEqual((await rowOf('Interaction', uid))?.payload, { jti: uid, result: { grantId: winner } });
  });
});

const writesOidcModel = (text: string) => /(insert into|update|delete from) "oidc_model"/.test(text);
const claims = (text: string) => /update "sca_interaction" set "decision"/.test(text);
const listed = (statements: string[]) => statements.map((text, i) => `${i + 1}. ${text.slice(0, 160)}`).join('\n');

describe('the consent decision POST, statement by statement', () => {
  const assent = useAssent();
  const tpp = useTpp(assent);

  /** Signed in on the consent page of a request with `parameters`. */
  async function onConsentPage(customer: Awaited<ReturnType<typeof createTestCustomer>>, parameters: Record<string, string> = {}) {
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const request = await pushAuthorizationRequest(tpp, parameters, { DPoP: dpop });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const page = await browser.signIn(request.url, customer);
    assert.equal(page.status, 200, page.body.slice(0, 300));
    return { browser, page, request, dpop };
  }

  test('approve without a consent: the claim, the grant and the interaction result are one statement, with no transaction around it', async () => {
    const customer = await createTestCustomer(assent.db);
    const { browser, page, request, dpop } = await onConsentPage(customer);
    let answer: Awaited<ReturnType<CustomerAgent['post']>> | undefined;
    const statements = await statementsDuring(async () => {
      answer = await browser.post(page, 'confirm');
    });
    assert.equal(answer?.status, 303, answer?.body.slice(0, 300));
    assert.deepEqual(
      statements.filter((text) => /^(begin|commit|rollback)/i.test(text)),
      [],
      listed(statements),
    );
    const writes = statements.filter((text) => writesOidcModel(text) || claims(text));
    assert.equal(writes.length, 1, listed(statements));
    assert.match(writes[0]!, /^with "claimed" as \(update "sca_interaction" set "decision"/);
    assert.match(writes[0]!, /insert into "oidc_model" .* where exists \(select 1 from claimed\)/);

    // Both rows were really written: the grant holds the scopes, the result names it, the TPP gets tokens.
    const callback = await browser.open(new URL(answer!.location!, assent.issuer));
    const tokens = await redeemCode(tpp, callback.url, request, { dpop, idTokenExpected: true });
    assert.equal(tokens.scope, 'openid accounts');
  });

  test('deny without a consent: the claim and the result are one statement', async () => {
    const customer = await createTestCustomer(assent.db);
    const { browser, page } = await onConsentPage(customer);
    let answer: Awaited<ReturnType<CustomerAgent['post']>> | undefined;
    const statements = await statementsDuring(async () => {
      answer = await browser.post(page, 'abort');
    });
    assert.equal(answer?.status, 303);
    assert.deepEqual(
      statements.filter((text) => /^(begin|commit|rollback)/i.test(text)),
      [],
      listed(statements),
    );
    const writes = statements.filter((text) => writesOidcModel(text) || claims(text));
    assert.equal(writes.length, 1, listed(statements));
    assert.match(writes[0]!, /^with "claimed" as \(update "sca_interaction" set "decision"/);
    const callback = await browser.open(new URL(answer!.location!, assent.issuer));
    assert.equal(callback.url.searchParams.get('error'), 'access_denied');
  });

  test('approve of a consent: one transaction claims first, and writes grant and result in one statement just before its commit', async () => {
    const api = await ConsentApiClient.create(assent, tpp);
    const { customer, current } = await customerWithAccounts(assent);
    const consentId = ((await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() })).body as { Data: { ConsentId: string } })
      .Data.ConsentId;
    const { browser, page } = await onConsentPage(customer, { claims: intentClaims(consentId) });
    let answer: Awaited<ReturnType<CustomerAgent['post']>> | undefined;
    const sent = await sentStatementsDuring(async () => {
      answer = await browser.post(page, 'confirm', { [`account:${current.id}`]: 'on' });
    });
    assert.equal(answer?.status, 303, answer?.body.slice(0, 300));
    // The transaction's connection: background work (the event push) sends on others, in between.
    const transaction = sent.find((statement) => statement.text === 'begin')?.connection;
    const statements = sent.filter((statement) => statement.connection === transaction).map((statement) => statement.text);
    assert.ok(transaction !== undefined, listed(sent.map((statement) => statement.text)));
    const begin = statements.indexOf('begin');
    const commit = statements.indexOf('commit');
    assert.ok(begin >= 0 && commit > begin && statements.lastIndexOf('begin') === begin, listed(statements));
    assert.ok(claims(statements[begin + 1]!), `the claim comes first:\n${listed(statements)}`);
    const writes = sent.map((statement) => statement.text).filter(writesOidcModel);
    assert.equal(writes.length, 1, listed(statements));
    assert.equal(statements[commit - 1], writes[0], `grant and result last:\n${listed(statements)}`);
    assert.match(writes[0]!, /^insert into "oidc_model" \([^)]*\) values \(\$1, .*\), \(\$8, .*\) on conflict/, 'two rows, one statement');
    const consent = await assent.db
      .selectFrom('consent')
      .select(['status', 'grant_id'])
      .where('id', '=', consentId)
      .executeTakeFirstOrThrow();
    assert.equal(consent.status, 'Authorised');
    assert.ok(
      await assent.db
        .selectFrom('oidc_model')
        .select('id')
        .where('model', '=', 'Grant')
        .where('id', '=', consent.grant_id!)
        .executeTakeFirst(),
      "the consent's grant is stored",
    );
  });
});

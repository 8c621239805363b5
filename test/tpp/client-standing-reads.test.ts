import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { suspendTpp } from '../../src/tpp/tpp-service.ts';
import { tlsAgent } from '../support/assent.ts';
import { ACCOUNT_ACCESS, accountAccessRequest, ConsentApiClient } from '../support/consent-api.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { oneTimeCode } from '../support/customers.ts';
import { customerWithAccounts } from '../support/granted-consents.ts';
import { statementsDuring } from '../support/statements.ts';
import { createTestTpp, pushAuthorizationRequest, insertTestTppRecord } from '../support/tpp.ts';
import { useAssent } from '../support/fixture.ts';

/**
 * Each resume of the authorization request loads the interaction and then its client, whose standing
 * (TPP status, blocked keys, throttle) is read on every load. The standing comes with the interaction in
 * the same statement (store/batched-find.ts) and serves that one request only: a suspension committed
 * before a resume began is seen by it.
 */

/** The standing read on its own (tpp-repository.ts readClientStandings). */
const separateStandingReads = (statements: string[]) => statements.filter((text) => /as ids\(client_id\)/.test(text));
/** The adapter's find, with the standing read in it. */
const findsWithStanding = (statements: string[]) =>
  statements.filter((text) => text.includes('from "oidc_model" as "t"') && text.includes("'blockedKids'"));

describe("an interaction's client standing comes with the interaction at the resume", () => {
  const assent = useAssent();

  /** A TPP of its own (a test suspends it), PAR, sign-in up to the one-time code POST, which redirects to the resume. */
  async function signedInUpToResume() {
    const tpp = await createTestTpp(assent);
    const api = await ConsentApiClient.create(assent, tpp);
    const { customer } = await customerWithAccounts(assent);
    const created = await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() });
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const claims = JSON.stringify({ id_token: { openbanking_intent_id: { value: consentId, essential: true } } });
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', claims }, { DPoP: dpop });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const login = await browser.open(request.url);
    const otp = await browser.submit(login, 'login', { username: customer.username, password: customer.password });
    const posted = CustomerAgent.form(otp, 'otp', { code: await oneTimeCode(customer) });
    const answer = await browser.request(posted.url, { form: posted.fields });
    assert.equal(answer.status, 303, `the one-time code step redirects to the resume (${answer.status})`);
    const resumeUrl = new URL(answer.headers.get('location') ?? '', posted.url);
    assert.match(resumeUrl.pathname, /^\/auth\//, 'the step hands back to the provider');
    return { tpp, browser, resumeUrl };
  }

  test('the resume reads the standing with its find, not on its own, and goes on to the consent page', async () => {
    const { browser, resumeUrl } = await signedInUpToResume();
    let resumed!: Awaited<ReturnType<CustomerAgent['request']>>;
    const statements = await statementsDuring(async () => {
      resumed = await browser.request(resumeUrl);
    });
    assert.equal(resumed.status, 303);
    assert.match(resumed.headers.get('location') ?? '', /\/interaction\//, 'on to the consent page');
    assert.deepEqual(separateStandingReads(statements), [], 'no standing read of its own');
    assert.equal(findsWithStanding(statements).length, 1, `the standing is read with the interaction, got:\n${statements.join('\n')}`);
  });

  test('a TPP suspended after the sign-in is refused at the resume: the standing read with the interaction says so', async () => {
    const { tpp, browser, resumeUrl } = await signedInUpToResume();
    await insertTestTppRecord(assent.db, tpp.clientId, 'Suspended Soon');
    await suspendTpp(assent.db, tpp.clientId, { reason: 'test', actor: { kind: 'operator', id: 'test' } });
    let resumed!: Awaited<ReturnType<CustomerAgent['request']>>;
    const statements = await statementsDuring(async () => {
      resumed = await browser.request(resumeUrl);
    });
    assert.equal(resumed.status, 400, 'an error page for the customer, no redirect');
    assert.equal(resumed.headers.get('location'), null);
    assert.match(await resumed.text(), /client/i);
    assert.deepEqual(separateStandingReads(statements), []);
  });
});

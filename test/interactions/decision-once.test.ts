import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { getConsent } from '../../src/consents/consent-service.ts';
import type { BankAccount } from '../../src/customers/account-directory.ts';
import { tlsAgent } from '../support/assent.ts';
import { ACCOUNT_ACCESS, accountAccessRequest, DOMESTIC_PAYMENT, domesticPaymentRequest } from '../support/consent-api.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer, type TestCustomer } from '../support/customers.ts';
import { customerWithAccounts, intentClaims } from '../support/granted-consents.ts';
import { pushAuthorizationRequest, redeemCode } from '../support/tpp.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';

/**
 * A decision on an interaction is taken once: a repeated or concurrent post of the
 * consent form (double click, retry, back button) gets the first outcome, never a second decision.
 */

type Kind = 'account_access' | 'domestic_payment';

describe('a consent decision is taken once', () => {
  const assent = useAssent();
  const tpp = useTpp(assent);
  const api = useConsentApi(assent, tpp);

  /** A consent of `kind`, the customer signed in on its consent page, and the form that approves it. */
  async function onConsentPage(kind: Kind) {
    const { customer, current, savings } = await customerWithAccounts(assent);
    const created =
      kind === 'account_access'
        ? await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() })
        : await api.call('POST', DOMESTIC_PAYMENT, { body: domesticPaymentRequest(), headers: { 'x-idempotency-key': randomUUID() } });
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const scope = kind === 'account_access' ? 'openid accounts' : 'openid payments';
    const accounts: BankAccount[] = kind === 'account_access' ? [current, savings] : [current];
    const selection =
      kind === 'account_access' ? Object.fromEntries(accounts.map((a) => [`account:${a.id}`, 'on'])) : { account: current.id };
    return { consentId, selection, ...(await signedIn(customer, { scope, claims: intentClaims(consentId) })) };
  }

  /** The customer signed in on the consent page of a request with `parameters`. */
  async function signedIn(customer: TestCustomer, parameters: Record<string, string>) {
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const request = await pushAuthorizationRequest(tpp, parameters, { DPoP: dpop });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const page = await browser.signIn(request.url, customer);
    assert.equal(page.status, 200, page.body.slice(0, 300));
    return { customer, browser, page, request, dpop };
  }

  const eventsOf = async (consentId: string) =>
    (await assent.db.selectFrom('audit_event').select('event').where('subject_id', '=', consentId).orderBy('seq').execute()).map(
      (row) => row.event,
    );

  const grantsOf = async (customerId: string) =>
    Number(
      (
        await assent.db
          .selectFrom('oidc_model')
          .select(sql<string>`count(*)`.as('n'))
          .where('model', '=', 'Grant')
          .where(sql`payload->>'accountId'`, '=', customerId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  /** Follows the decision's redirect (inside the issuer) to the TPP's callback and redeems the code there. */
  async function redeem(setup: Awaited<ReturnType<typeof signedIn>>, location: string) {
    const callback = await setup.browser.open(new URL(location, assent.issuer));
    assert.ok(callback.url.href.startsWith(tpp.redirectUri), `expected the TPP's callback, got ${callback.url} (${callback.status})`);
    return redeemCode(tpp, callback.url, setup.request, { dpop: setup.dpop, idTokenExpected: true });
  }

  for (const kind of ['domestic_payment', 'account_access'] as const) {
    test(`${kind}: 32 parallel approvals make one authorisation, one grant, one audit event, and all get the same redirect`, async () => {
      const setup = await onConsentPage(kind);
      const answers = await Promise.all(Array.from({ length: 32 }, () => setup.browser.post(setup.page, 'confirm', setup.selection)));
      for (const answer of answers) assert.equal(answer.status, 303, answer.body.slice(0, 300));
      const locations = new Set(answers.map((answer) => answer.location));
      assert.equal(locations.size, 1, `different outcomes: ${[...locations].join(', ')}`);

      const consent = await getConsent(assent.db, setup.consentId);
      assert.equal(consent?.status, 'Authorised');
      assert.deepEqual(await eventsOf(setup.consentId), ['consent.created', 'consent.authorised']);
      assert.equal(await grantsOf(setup.customer.id), 1);

      const tokens = await redeem(setup, answers[0]!.location!);
      assert.ok(tokens.access_token);
      assert.equal(tokens.claims()?.openbanking_intent_id, setup.consentId);
      assert.equal((await getConsent(assent.db, setup.consentId))?.status, 'Authorised');
    });

    test(`${kind}: an approval posted again gets the same redirect, and once used, a page saying it was already decided`, async () => {
      const setup = await onConsentPage(kind);
      const first = await setup.browser.post(setup.page, 'confirm', setup.selection);
      const second = await setup.browser.post(setup.page, 'confirm', setup.selection);
      assert.equal(first.status, 303);
      assert.equal(second.status, 303);
      assert.equal(second.location, first.location);
      // A repeat with another selection is still the first decision, not a new one.
      const third = await setup.browser.post(setup.page, 'confirm', {});
      assert.equal(third.location, first.location);

      const tokens = await redeem(setup, first.location!);
      assert.ok(tokens.access_token);

      const late = await setup.browser.post(setup.page, 'confirm', setup.selection);
      assert.equal(late.status, 409, late.body.slice(0, 300));
      assert.match(late.body, /already/i);
      assert.match(late.body, /<link rel="stylesheet"/);
      assert.match(late.body, new RegExp(`href="${new URL(tpp.redirectUri).origin}`));
      const lateDeny = await setup.browser.post(setup.page, 'abort', {});
      assert.equal(lateDeny.status, 409);

      assert.equal((await getConsent(assent.db, setup.consentId))?.status, 'Authorised');
      assert.deepEqual(await eventsOf(setup.consentId), ['consent.created', 'consent.authorised']);
      assert.equal(await grantsOf(setup.customer.id), 1);
    });

    test(`${kind}: 32 parallel denials reject once, and a later approval cannot turn the decision over`, async () => {
      const setup = await onConsentPage(kind);
      const answers = await Promise.all(Array.from({ length: 32 }, () => setup.browser.post(setup.page, 'abort', {})));
      for (const answer of answers) assert.equal(answer.status, 303, answer.body.slice(0, 300));
      assert.equal(new Set(answers.map((answer) => answer.location)).size, 1);
      const approve = await setup.browser.post(setup.page, 'confirm', setup.selection);
      assert.equal(approve.location, answers[0]!.location);

      const callback = await setup.browser.open(new URL(answers[0]!.location!, assent.issuer));
      assert.equal(callback.url.searchParams.get('error'), 'access_denied');
      assert.equal((await getConsent(assent.db, setup.consentId))?.status, 'Rejected');
      assert.deepEqual(await eventsOf(setup.consentId), ['consent.created', 'consent.rejected']);
      assert.equal(await grantsOf(setup.customer.id), 0);
    });
  }

  // Plain scopes, no consent: the claim, the grant and the interaction result are one statement.
  test('without a consent: 32 parallel approvals make one grant and one result, and all get the same redirect', async () => {
    const setup = await signedIn(await createTestCustomer(assent.db), { scope: 'openid accounts' });
    const answers = await Promise.all(Array.from({ length: 32 }, () => setup.browser.post(setup.page, 'confirm')));
    for (const answer of answers) assert.equal(answer.status, 303, answer.body.slice(0, 300));
    assert.equal(new Set(answers.map((answer) => answer.location)).size, 1);
    assert.equal(await grantsOf(setup.customer.id), 1);
    const tokens = await redeem(setup, answers[0]!.location!);
    assert.ok(tokens.access_token);
    assert.equal(tokens.scope, 'openid accounts');
    assert.equal((await setup.browser.post(setup.page, 'abort')).status, 409, 'a denial after the TPP was sent on is told it was decided');
    assert.equal(await grantsOf(setup.customer.id), 1);
  });

  test('without a consent: 32 parallel denials deny once, no grant is made, and a later approval cannot turn it over', async () => {
    const setup = await signedIn(await createTestCustomer(assent.db), { scope: 'openid accounts' });
    const answers = await Promise.all(Array.from({ length: 32 }, () => setup.browser.post(setup.page, 'abort')));
    for (const answer of answers) assert.equal(answer.status, 303, answer.body.slice(0, 300));
    assert.equal(new Set(answers.map((answer) => answer.location)).size, 1);
    assert.equal((await setup.browser.post(setup.page, 'confirm')).location, answers[0]!.location);
    const callback = await setup.browser.open(new URL(answers[0]!.location!, assent.issuer));
    assert.equal(callback.url.searchParams.get('error'), 'access_denied');
    assert.equal(await grantsOf(setup.customer.id), 0);
  });
});

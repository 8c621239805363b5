import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { getConsent } from '../../src/consents/consent-service.ts';
import { type TestAssent, tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { csrfTokenOf, signInToDashboard, pageText as text } from '../support/dashboard.ts';
import { customerWithAccounts, type GrantedConsent, grantConsent } from '../support/granted-consents.ts';
import { ACCOUNT_ACCESS, accountAccessRequest, ConsentApiClient } from '../support/consent-api.ts';
import { TestResourceServer } from '../support/resource-server.ts';
import { usesRecorded } from '../support/consent-uses.ts';
import { type TestTpp } from '../support/tpp.ts';
import { callRegistration, dpopClientMetadata, issueSsa, tppFromRegistration } from '../support/onboarding.ts';
import { useAssent, useTpp } from '../support/fixture.ts';

async function introspect(tpp: TestTpp, granted: GrantedConsent) {
  return (await oidc.tokenIntrospection(tpp.config, granted.tokens.access_token)).active;
}

async function statusOf(assent: TestAssent, consentId: string) {
  return (await getConsent(assent.db, consentId))?.status;
}

describe('the consent dashboard: listing, detail, revocation, stop sharing, isolation between customers', () => {
  const assent = useAssent();
  const alpha = useTpp(assent, { metadata: { client_name: 'Alpha Budgeting', logo_uri: 'https://alpha.example/logo.png' } });
  const beta = useTpp(assent, { metadata: { client_name: 'Beta Payments' } });

  async function signedIn(customer: Parameters<typeof signInToDashboard>[2]) {
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const { home } = await signInToDashboard(browser, assent.issuer, customer);
    const open = (path: string, form?: Record<string, string>) => browser.open(new URL(path, assent.issuer), form ? { form } : {});
    return { browser, home, open };
  }

  test('home lists the consents by TPP with type, status, accounts, dates and last use; tabs filter them', async () => {
    const { customer, current, savings } = await customerWithAccounts(assent);
    const reading = await grantConsent(assent, alpha, customer, { type: 'account_access', accounts: [current, savings] });
    const paying = await grantConsent(assent, beta, customer, { type: 'domestic_payment', accounts: [current] });
    const { home, open } = await signedIn(customer);

    assert.equal(home.status, 200);
    const shown = text(home);
    assert.match(home.body, /<section class="tpp" aria-labelledby="tpp-[^"]+">/);
    assert.match(shown, /Alpha Budgeting See your account information/);
    assert.match(home.body, /src="https:\/\/alpha\.example\/logo\.png"/);
    assert.match(shown, /Beta Payments Make one payment/);
    assert.match(
      shown,
      new RegExp(
        `Everyday Current \\(ending ${current.identification.slice(-4)}\\), Rainy Day Saver \\(ending ${savings.identification.slice(-4)}\\)`,
      ),
    );
    assert.match(shown, /Status Active/);
    assert.match(shown, /Granted \d{1,2} \w+ \d{4}/);
    assert.match(shown, /Expires \d{1,2} \w+ \d{4}/);
    assert.doesNotMatch(shown, /Last used Not used yet/, 'issuing the tokens counts as use');
    assert.ok(home.body.includes(`href="/dashboard/consents/${reading.consentId}"`));
    assert.ok(home.body.includes(`href="/dashboard/consents/${paying.consentId}"`));
    assert.match(shown, /Active \(2\)/);
    assert.match(shown, /Expired \(0\)/);
    assert.match(shown, /Revoked, declined or used \(0\)/);
    assert.ok(home.body.indexOf('Alpha Budgeting') < home.body.indexOf('Beta Payments'), 'TPPs in name order');

    const expired = await open('/dashboard?tab=expired');
    assert.match(text(expired), /No expired consents/);
    assert.doesNotMatch(expired.body, /Alpha Budgeting/);
    const ended = await open('/dashboard?tab=ended');
    assert.match(text(ended), /No revoked, declined or used consents/);
  });

  test('a consent past its expiry moves to the Expired tab, with its end date, and cannot be revoked', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const reading = await grantConsent(assent, alpha, customer, { type: 'account_access', accounts: [current] });
    // Time passing: the consent's expiry is now behind us (the expiry sweep has not run yet).
    await sql`update consent set expires_at = now() - interval '1 minute' where id = ${reading.consentId}`.execute(assent.db);
    const { home, open } = await signedIn(customer);
    assert.ok(!home.body.includes(reading.consentId), 'no longer under Active');
    const expired = await open('/dashboard?tab=expired');
    assert.ok(expired.body.includes(`href="/dashboard/consents/${reading.consentId}"`));
    assert.match(text(expired), /Status Expired/);
    assert.match(text(expired), /Ended \d{1,2} \w+ \d{4}/);
    const detail = await open(`/dashboard/consents/${reading.consentId}`);
    assert.match(text(detail), /This consent has expired, so the provider already has no access/);
    assert.equal((await open(`/dashboard/consents/${reading.consentId}/revoke`, { csrf_token: csrfTokenOf(detail) })).status, 409);
  });

  test('a new customer sees an empty state that explains what will appear', async () => {
    const { customer } = await customerWithAccounts(assent);
    const { home } = await signedIn(customer);
    assert.match(text(home), /No provider can access your accounts right now/);
    assert.match(text(home), /When you allow an app or website/);
  });

  test('detail: every permission in plain language, accounts, transaction window, history', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const reading = await grantConsent(assent, alpha, customer, { type: 'account_access', accounts: [current] });
    const { open } = await signedIn(customer);
    const page = await open(`/dashboard/consents/${reading.consentId}`);
    assert.equal(page.status, 200);
    const shown = text(page);
    assert.match(shown, /Alpha Budgeting: see your account information/);
    for (const wording of ['Your account details', 'Your balances', 'Your transactions in full', 'Money coming in', 'Money going out']) {
      assert.ok(shown.includes(wording), `shows "${wording}"`);
      assert.ok(text(reading.consentPage).includes(wording), `the consent page said "${wording}" too`);
    }
    assert.doesNotMatch(shown, /ReadAccountsDetail/, 'no raw permission codes');
    assert.match(shown, new RegExp(`Everyday Current \\(ending ${current.identification.slice(-4)}\\)`));
    assert.match(shown, /Which transactions Transactions from \d{1,2} \w+ \d{4} up to \d{1,2} \w+ \d{4}/);
    assert.match(shown, /Alpha Budgeting Asked for access/);
    assert.match(shown, /You Approved/);
    assert.match(shown, /Alpha Budgeting Received access/);
    assert.ok(page.body.includes(`href="/dashboard/consents/${reading.consentId}/revoke"`));
  });

  test('timeline: every use with who did it: issued, refreshed, introspected by the bank at most once a minute, revoked', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const reading = await grantConsent(assent, alpha, customer, { type: 'account_access', accounts: [current] });
    const refreshed = await oidc.refreshTokenGrant(alpha.config, reading.tokens.refresh_token!, undefined, { DPoP: reading.dpop });
    const bank = await TestResourceServer.create(assent, 'Accounts API');
    // Mark the refresh as more than a minute old, so that the first introspection is the first use in a minute.
    await sql`update consent set last_used_at = now() - interval '2 minutes' where id = ${reading.consentId}`.execute(assent.db);
    for (let call = 0; call < 3; call += 1) assert.equal((await oidc.tokenIntrospection(bank.config, refreshed.access_token)).active, true);
    // Introspection notes the use and leaves the write to the background (consent-use.test.ts).
    await usesRecorded(assent, reading.consentId, 'introspected');
    const { open } = await signedIn(customer);
    const detail = await open(`/dashboard/consents/${reading.consentId}`);
    const rows = [
      ...detail.body.matchAll(/<tr><td><time datetime="[^"]+">[^<]+<\/time><\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><\/tr>/g),
    ].map(([, who, what]) => `${who}: ${what}`);
    assert.deepEqual(
      rows,
      [
        'Alpha Budgeting: Asked for access',
        'You: Approved',
        'Alpha Budgeting: Received access',
        'Alpha Budgeting: Renewed its access',
        'Assent Demo Bank: Checked that access is still allowed',
      ],
      'three introspections within a minute are one line, by the bank',
    );
    const revoke = await open(`/dashboard/consents/${reading.consentId}/revoke`);
    await open(`/dashboard/consents/${reading.consentId}/revoke`, { csrf_token: csrfTokenOf(revoke) });
    const afterRevoking = await open(`/dashboard/consents/${reading.consentId}`);
    assert.match(text(afterRevoking), /You Revoked/);
  });

  test('pending: a consent bound to the customer and awaiting their decision is listed with where to answer; none is an empty state', async () => {
    const { customer } = await customerWithAccounts(assent);
    const { open, home } = await signedIn(customer);
    assert.match(home.body, /href="\/dashboard\?tab=pending">Waiting for you <span class="count">\(0\)<\/span>/);
    const empty = await open('/dashboard?tab=pending');
    assert.match(text(empty), /Nothing is waiting for your answer/);

    const api = await ConsentApiClient.create(assent, alpha);
    const created = await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() });
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    // The decoupled flow does not exist yet: bind the awaiting consent to the customer as it would.
    await sql`update consent set customer_id = ${customer.id} where id = ${consentId}`.execute(assent.db);
    const pending = await open('/dashboard?tab=pending');
    assert.ok(pending.body.includes(`href="/dashboard/consents/${consentId}"`));
    assert.match(text(pending), /Status Waiting for your answer/);
    assert.match(text(pending), /This request is waiting for your answer\. To approve or decline it, go back to Alpha Budgeting\./);
    assert.doesNotMatch((await open('/dashboard')).body, new RegExp(consentId), 'not among the active consents');
    const detail = await open(`/dashboard/consents/${consentId}`);
    assert.ok(!detail.body.includes(`/dashboard/consents/${consentId}/revoke"`), 'nothing to revoke yet');
    assert.match(text(detail), /Alpha Budgeting Asked for access/);
  });

  test('payment detail shows the payment; a Consumed payment cannot be revoked and the page says why', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const paying = await grantConsent(assent, beta, customer, { type: 'domestic_payment', accounts: [current] });
    const { open } = await signedIn(customer);
    const page = await open(`/dashboard/consents/${paying.consentId}`);
    assert.match(text(page), /Amount £165\.88/);
    assert.match(text(page), /To ACME Inc \(sort code 08-08-00, account 21325698\)/);
    assert.match(text(page), /Reference FRESCO-101/);
    // One true thing on both pages: an approved payment waiting to be made, which the customer may still cancel.
    const untilMade = /<p class="stop-later">(.+?)<\/p>/.exec(paying.consentPage.body)?.[1];
    assert.ok(
      untilMade?.includes(`Until it is made, you can cancel it at <a href="${assent.issuer}/dashboard">${assent.issuer}/dashboard</a>;`),
      `the consent page said: ${untilMade}`,
    );
    assert.ok(
      page.body.includes(`<p class="payment-until-made">${untilMade}</p>`),
      'the dashboard says what the consent page said, word for word',
    );
    assert.match(text(page), /Status Approved, waiting to be paid/);
    assert.match(text(page), /Expires When the payment is made/);
    assert.doesNotMatch(text(page), /Status Active|No end date|Revoke this consent/);
    assert.ok(page.body.includes(`href="/dashboard/consents/${paying.consentId}/revoke">Cancel this payment</a>`));

    // The bank's payment API marks the consent consumed once the payment is made.
    await sql`update consent set status = 'Consumed', status_updated_at = now() where id = ${paying.consentId}`.execute(assent.db);
    const consumed = await open(`/dashboard/consents/${paying.consentId}`);
    assert.match(text(consumed), /This payment has already been made/);
    assert.ok(!consumed.body.includes(`/dashboard/consents/${paying.consentId}/revoke"`), 'no revoke button');
    const attempt = await open(`/dashboard/consents/${paying.consentId}/revoke`, { csrf_token: csrfTokenOf(consumed) });
    assert.equal(attempt.status, 409);
    assert.equal(await statusOf(assent, paying.consentId), 'Consumed');
  });

  test('a payment waiting to be made is cancelled, not revoked: the confirmation and the receipt say so, in both languages', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const paying = await grantConsent(assent, beta, customer, { type: 'domestic_payment', accounts: [current] });
    const { open } = await signedIn(customer);
    const confirm = await open(`/dashboard/consents/${paying.consentId}/revoke`);
    assert.match(confirm.body, /<title>Cancel payment · Beta Payments/);
    assert.match(
      text(confirm),
      /Cancel this payment\? What happens The payment is cancelled at once: Beta Payments can no longer make it\. This cannot be undone\. To pay after all, start again from Beta Payments\./,
    );
    assert.match(text(confirm), /Yes, cancel the payment No, keep the payment/);
    assert.doesNotMatch(text(confirm), /Revoke|revoke|loses access/);
    const german = await open(`/dashboard/consents/${paying.consentId}/revoke?lang=de`);
    assert.match(
      text(german),
      /Diese Zahlung stornieren\? .*Die Zahlung wird sofort storniert: Beta Payments kann sie nicht mehr ausführen\..*Ja, Zahlung stornieren/,
    );
    assert.doesNotMatch(text(german), /widerrufen/);

    const receipt = await open(`/dashboard/consents/${paying.consentId}/revoke`, { csrf_token: csrfTokenOf(german) });
    assert.equal(await statusOf(assent, paying.consentId), 'Revoked');
    assert.match(
      text(receipt),
      /Die Zahlung ist storniert Sie haben diese Zahlung am \d{1,2}\. \w+ \d{4} .* storniert\. Beta Payments kann sie nicht mehr ausführen\./,
    );
    const english = await open(`/dashboard/consents/${paying.consentId}/receipt?lang=en`);
    assert.match(english.body, /<title>Payment cancelled · Beta Payments/);
    assert.match(
      text(english),
      /The payment is cancelled You cancelled this payment on \d{1,2} \w+ \d{4} .*\. Beta Payments can no longer make it\./,
    );
    assert.doesNotMatch(text(english), /no longer has access|You revoked/);
  });

  test('revoke: confirmation, then immediate effect on every token, audit with actor = customer, receipt, Revoked tab', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const reading = await grantConsent(assent, alpha, customer, { type: 'account_access', accounts: [current] });
    const { open } = await signedIn(customer);

    const early = await open(`/dashboard/consents/${reading.consentId}/receipt`);
    assert.equal(early.url.pathname, `/dashboard/consents/${reading.consentId}`, 'no receipt for an active consent');
    const confirm = await open(`/dashboard/consents/${reading.consentId}/revoke`);
    assert.match(text(confirm), /Revoke Alpha Budgeting’s access\?/);
    assert.match(text(confirm), /loses access at once/);
    assert.match(text(confirm), /Data Alpha Budgeting already holds is governed by its own terms/);
    assert.equal(await introspect(alpha, reading), true, 'showing the confirmation changes nothing');

    const receipt = await open(`/dashboard/consents/${reading.consentId}/revoke`, { csrf_token: csrfTokenOf(confirm) });
    assert.equal(receipt.url.pathname, `/dashboard/consents/${reading.consentId}/receipt`);
    assert.match(text(receipt), /Alpha Budgeting no longer has access/);
    assert.match(text(receipt), /You revoked this consent on \d{1,2} \w+ \d{4}/);
    assert.ok(receipt.body.includes(reading.consentId), 'the receipt carries the reference');

    assert.equal(await statusOf(assent, reading.consentId), 'Revoked');
    assert.equal(await introspect(alpha, reading), false, "the TPP's next introspection is inactive");
    await assert.rejects(
      oidc.refreshTokenGrant(alpha.config, reading.tokens.refresh_token!, undefined, { DPoP: reading.dpop }),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_grant',
    );
    const revoked = (await auditHistory(assent.db, 'consent', reading.consentId)).at(-1)!;
    assert.equal(revoked.event, 'consent.revoked');
    assert.deepEqual(revoked.actor, { kind: 'customer', id: customer.id });

    const ended = await open('/dashboard?tab=ended');
    assert.ok(ended.body.includes(`href="/dashboard/consents/${reading.consentId}"`));
    assert.match(text(ended), /Status Revoked/);
    assert.doesNotMatch((await open('/dashboard')).body, new RegExp(reading.consentId));
    assert.match(text(await open(`/dashboard/consents/${reading.consentId}`)), /You Revoked/);
  });

  test('without the CSRF token revocation answers 403 and changes nothing', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const reading = await grantConsent(assent, alpha, customer, { type: 'account_access', accounts: [current] });
    const { open } = await signedIn(customer);
    for (const form of [{}, { csrf_token: 'forged' }] as Record<string, string>[]) {
      const attempt = await open(`/dashboard/consents/${reading.consentId}/revoke`, form);
      assert.equal(attempt.status, 403);
      const stop = await open(`/dashboard/providers/${alpha.clientId}/stop`, form);
      assert.equal(stop.status, 403);
    }
    assert.equal(await statusOf(assent, reading.consentId), 'Authorised');
    assert.equal(await introspect(alpha, reading), true);
  });

  test("stop sharing revokes exactly this customer's consents with that TPP, in one go", async () => {
    const mine = await customerWithAccounts(assent);
    const other = await customerWithAccounts(assent);
    const alphaOne = await grantConsent(assent, alpha, mine.customer, { type: 'account_access', accounts: [mine.current] });
    const alphaTwo = await grantConsent(assent, alpha, mine.customer, { type: 'account_access', accounts: [mine.savings] });
    const betaMine = await grantConsent(assent, beta, mine.customer, { type: 'account_access', accounts: [mine.current] });
    const alphaOther = await grantConsent(assent, alpha, other.customer, { type: 'account_access', accounts: [other.current] });
    const { home, open } = await signedIn(mine.customer);

    assert.ok(home.body.includes(`href="/dashboard/providers/${alpha.clientId}/stop"`));
    assert.equal(
      (await open(`/dashboard/providers/${alpha.clientId}/receipt`)).url.pathname,
      `/dashboard/providers/${alpha.clientId}/stop`,
      'no receipt while sharing goes on',
    );
    const confirm = await open(`/dashboard/providers/${alpha.clientId}/stop`);
    assert.match(text(confirm), /This revokes all 2 of your active consents with Alpha Budgeting at once/);
    const receipt = await open(`/dashboard/providers/${alpha.clientId}/stop`, { csrf_token: csrfTokenOf(confirm) });
    assert.equal(receipt.url.pathname, `/dashboard/providers/${alpha.clientId}/receipt`);
    assert.match(text(receipt), /You stopped sharing with Alpha Budgeting/);

    for (const granted of [alphaOne, alphaTwo]) {
      assert.equal(await statusOf(assent, granted.consentId), 'Revoked');
      assert.equal(await introspect(alpha, granted), false);
    }
    assert.equal(await statusOf(assent, betaMine.consentId), 'Authorised', 'another TPP keeps its consent');
    assert.equal(await introspect(beta, betaMine), true);
    assert.equal(await statusOf(assent, alphaOther.consentId), 'Authorised', "another customer's consent with the same TPP stays");
    assert.equal(await introspect(alpha, alphaOther), true);
  });

  test("one TPP with several clients is one group, another TPP of the same name another; stopping sharing ends every client's consents in one transaction", async () => {
    const register = async (name: string, orgId: string, orgName: string) => {
      const kit = await issueSsa(assent, { name, orgId, orgName, roles: 'AISP,PISP,CBPII' });
      const registered = await callRegistration(assent, kit.agent, { json: dpopClientMetadata(kit) });
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      return tppFromRegistration(assent, kit, String(registered.body.client_id));
    };
    const orgId = `org-${randomUUID()}`;
    const budgeting = await register('Acme Budgeting', orgId, 'Acme Ltd');
    const paying = await register('Acme Pay', orgId, 'Acme Ltd');
    const namesake = await register('Acme Budgeting', `org-${randomUUID()}`, 'Acme Budgeting GmbH');
    const mine = await customerWithAccounts(assent);
    const viaBudgeting = await grantConsent(assent, budgeting, mine.customer, { type: 'account_access', accounts: [mine.current] });
    const viaPay = await grantConsent(assent, paying, mine.customer, { type: 'domestic_payment', accounts: [mine.current] });
    const viaNamesake = await grantConsent(assent, namesake, mine.customer, { type: 'account_access', accounts: [mine.savings] });
    const { home, open } = await signedIn(mine.customer);

    const groups = [...home.body.matchAll(/<section class="tpp"[\s\S]*?<\/section>/g)].map(([section]) => section);
    assert.equal(groups.length, 2, 'two TPPs, however many clients and whatever their names');
    const acme = groups.find((section) => section.includes('>Acme Ltd</h2>'));
    assert.ok(acme, "clients with different names are shown under their organisation's name");
    assert.ok(acme.includes(viaBudgeting.consentId) && acme.includes(viaPay.consentId));
    assert.match(text({ ...home, body: acme }), /See your account information for Acme Ltd Given to Acme Budgeting Status/);
    assert.match(text({ ...home, body: acme }), /Make one payment for Acme Ltd Given to Acme Pay Status/);
    const other = groups.find((section) => section.includes('>Acme Budgeting</h2>'));
    assert.ok(other);
    assert.ok(other.includes(viaNamesake.consentId), 'a different organisation of the same name is a group of its own');
    assert.doesNotMatch(other, /Given to/, 'one client: its name says it all');

    const confirm = await open(`/dashboard/providers/${paying.clientId}/stop`);
    assert.match(
      text(confirm),
      /This revokes all 2 of your active consents with Acme Ltd at once: Make one payment .* See your account information .* This includes every app of Acme Ltd you gave consent to: Acme Budgeting and Acme Pay\./,
    );
    const receipt = await open(`/dashboard/providers/${paying.clientId}/stop`, { csrf_token: csrfTokenOf(confirm) });
    assert.match(
      text(receipt),
      /You stopped sharing with Acme Ltd Acme Ltd has no access to your accounts any more\. This ended your consents with each of its apps: Acme Budgeting and Acme Pay\./,
    );
    assert.equal(await statusOf(assent, viaBudgeting.consentId), 'Revoked');
    assert.equal(await statusOf(assent, viaPay.consentId), 'Revoked');
    assert.equal(await introspect(budgeting, viaBudgeting), false);
    const { rows } = await sql<{
      xmin: string;
    }>`select xmin::text from consent where id in (${viaBudgeting.consentId}, ${viaPay.consentId})`.execute(assent.db);
    assert.equal(new Set(rows.map((row) => row.xmin)).size, 1, 'both revoked by one transaction');
    assert.equal(await statusOf(assent, viaNamesake.consentId), 'Authorised', 'the namesake keeps its consent');
    assert.equal(await introspect(namesake, viaNamesake), true);
  });

  test("BOLA: another customer gets 404 for every page and action on someone else's consent, and changes nothing", async () => {
    const owner = await customerWithAccounts(assent);
    const intruder = await customerWithAccounts(assent);
    const reading = await grantConsent(assent, alpha, owner.customer, { type: 'account_access', accounts: [owner.current] });
    const { home, open } = await signedIn(intruder.customer);
    const token = csrfTokenOf(home);

    for (const path of [
      `/dashboard/consents/${reading.consentId}`,
      `/dashboard/consents/${reading.consentId}/revoke`,
      `/dashboard/consents/${reading.consentId}/receipt`,
      `/dashboard/providers/${alpha.clientId}/stop`,
      `/dashboard/providers/${alpha.clientId}/receipt`,
      '/dashboard/consents/not-a-uuid',
    ]) {
      const page = await open(path);
      assert.equal(page.status, 404, path);
      assert.doesNotMatch(page.body, /Alpha Budgeting/, `${path} reveals nothing`);
    }
    assert.equal((await open(`/dashboard/consents/${reading.consentId}/revoke`, { csrf_token: token })).status, 404);
    assert.equal((await open(`/dashboard/providers/${alpha.clientId}/stop`, { csrf_token: token })).status, 404);
    assert.equal(await statusOf(assent, reading.consentId), 'Authorised');
    assert.equal(await introspect(alpha, reading), true);
  });
});

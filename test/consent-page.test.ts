import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { auditHistory } from '../src/audit/audit-trail.ts';
import { loadConfig } from '../src/config.ts';
import { permissionGroups as groupsIn, permissionWording as wordingIn } from '../src/wording/permissions.ts';
import { wordingFor } from '../src/wording/wording.ts';
import { OB_PERMISSIONS, type ObPermission, readScopeOf } from '../src/uk-ob-v3/permissions.ts';
import { authoriseConsent, getConsent } from '../src/consents/consent-service.ts';
import { AccountSelectionInvalid } from '../src/consents/consent-errors.ts';
import { type BankAccount, openAccount, postgresAccountDirectory } from '../src/customers/account-directory.ts';
import type { AccountSubtype } from '../src/db/schema.ts';
import { linkedPaymentOf, paymentDigest } from '../src/interactions/dynamic-linking.ts';
import { type TestAssent, startTestAssent, tlsAgent } from './support/assent.ts';
import {
  ACCOUNT_ACCESS,
  accountAccessRequest,
  ConsentApiClient,
  DOMESTIC_PAYMENT,
  DOMESTIC_VRP,
  domesticPaymentRequest,
  domesticVrpRequest,
} from './support/consent-api.ts';
import { CustomerAgent, type Page } from './support/customer-agent.ts';
import { createTestCustomer, type TestCustomer } from './support/customers.ts';
import { createTestTpp, pushAuthorizationRequest, type TestTpp } from './support/tpp.ts';
import { intentClaims } from './support/granted-consents.ts';

const english = wordingFor('en', loadConfig({}).branding);
// The pages word the model's read scopes; the UK permissions a TPP asks for map to them one-to-one.
const permissionWording = (code: string) => wordingIn(english, readScopeOf(code as ObPermission));
const permissionGroups = (codes: readonly string[], window: { from: Date | null; to: Date | null }) =>
  groupsIn(
    english,
    codes.map((code) => readScopeOf(code as ObPermission)),
    window,
  );

const decode = (html: string) =>
  html
    .replace(/<[^>]+>/g, '')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();

/** The permission groups of a rendered consent page: heading and item texts, in page order. */
function shownGroups(page: Page) {
  return [...page.body.matchAll(/<section class="permission-group">\s*<h3>(.*?)<\/h3>\s*<ul>(.*?)<\/ul>/gs)].map(([, heading, items]) => ({
    heading: decode(heading!),
    permissions: [...items!.matchAll(/<li>(.*?)<\/li>/gs)].map(([, item]) => decode(item!)),
  }));
}

/** Every `<dl class="payment">` on the page as label -> value. */
function shownPayments(page: Page) {
  return [...page.body.matchAll(/<dl class="payment">(.*?)<\/dl>/gs)].map(([, list]) =>
    Object.fromEntries(
      [...list!.matchAll(/<dt>(.*?)<\/dt><dd[^>]*>(.*?)<\/dd>/gs)].map(([, label, value]) => [decode(label!), decode(value!)]),
    ),
  );
}

const shownAccountChoices = (page: Page) =>
  [
    ...page.body.matchAll(
      /<label class="choice">\s*<input type="(radio|checkbox)" name="([^"]+)" value="([^"]+)"( checked)?>\s*<span>(.*?)<\/span>/gs,
    ),
  ].map(([, type, name, value, checked, label]) => ({
    type,
    field: type === 'radio' ? value : name!.slice('account:'.length),
    checked: Boolean(checked),
    label: decode(label!),
  }));

/** How the pages label a customer's account (the dashboard too): name, last four digits, currency. */
const label = (account: BankAccount) => `${account.name} (ending ${account.identification.slice(-4)}), ${account.currency}`;

const item = (title: string, code: (typeof OB_PERMISSIONS)[number]) => `${title}: ${permissionWording(code).detail}`;

const headings = (window: { from: Date | null; to: Date | null }) =>
  permissionGroups(['ReadTransactionsBasic', 'ReadTransactionsCredits', 'ReadStatementsBasic'], window).map((group) => group.heading);

describe('permission groups', () => {
  test('every permission belongs to exactly one group', () => {
    const groups = permissionGroups(OB_PERMISSIONS, { from: null, to: null });
    assert.equal(groups.flatMap((group) => group.permissions).length, OB_PERMISSIONS.length);
    assert.deepEqual(
      groups.map((group) => group.heading),
      [
        'Your account details',
        'Your balances',
        'Your transactions',
        'Your statements',
        'Your direct debits, standing orders and scheduled payments',
        'Your payees',
        'Your personal details',
        'Your products and offers',
      ],
    );
  });

  test('the transaction window is named in the headings it limits', () => {
    const from = new Date('2026-01-01T00:00:00Z');
    const to = new Date('2026-06-30T12:00:00Z');
    assert.deepEqual(headings({ from, to }), [
      'Your transactions from 1 January 2026 to 30 June 2026',
      'Your statements from 1 January 2026 to 30 June 2026',
    ]);
    assert.deepEqual(headings({ from, to: null }), ['Your transactions from 1 January 2026', 'Your statements from 1 January 2026']);
    assert.deepEqual(headings({ from: null, to }), ['Your transactions up to 30 June 2026', 'Your statements up to 30 June 2026']);
  });
});

describe('the consent page and PSD2 dynamic linking', () => {
  let assent: TestAssent;
  let tpp: TestTpp;
  let api: ConsentApiClient;
  before(async () => {
    assent = await startTestAssent();
    tpp = await createTestTpp(assent, { metadata: { client_name: 'Budget Buddy', logo_uri: 'https://tpp.example/logo.png' } });
    api = await ConsentApiClient.create(assent, tpp);
  });
  after(async () => {
    await assent?.stop();
  });

  async function customerWithAccounts() {
    const customer = await createTestCustomer(assent.db);
    const open = (name: string, currency: string, accountSubtype: AccountSubtype) =>
      openAccount(assent.db, {
        customerId: customer.id,
        schemeName: 'UK.OBIE.SortCodeAccountNumber',
        identification: String(randomInt(10 ** 13, 10 ** 14 - 1)),
        name,
        currency,
        accountType: 'Personal',
        accountSubtype,
      });
    return {
      customer,
      current: await open('Everyday', 'GBP', 'CurrentAccount'),
      euro: await open('Travel', 'EUR', 'CurrentAccount'),
      card: await open('Credit card', 'GBP', 'CreditCard'),
    };
  }

  const browserFor = () => new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);

  /** Password, then the one-time-code page (not yet submitted). */
  async function toCodeStep(url: URL, customer: TestCustomer, browser = browserFor()) {
    const login = await browser.open(url);
    const otp = await browser.submit(login, 'login', { username: customer.username, password: customer.password });
    assert.match(otp.body, /name="code"/);
    return { browser, otp };
  }

  async function createPayment(initiation: Record<string, unknown> = {}) {
    const created = await api.call('POST', DOMESTIC_PAYMENT, {
      body: domesticPaymentRequest(initiation),
      headers: { 'x-idempotency-key': crypto.randomUUID() },
    });
    assert.equal(created.status, 201);
    return (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
  }

  const EXPECTED_PAYMENT = {
    Amount: '£165.88',
    Currency: 'GBP (British Pound)',
    To: 'ACME Inc',
    'Payee account': 'sort code 08-08-00, account 21325698',
    Reference: 'FRESCO-101',
  };

  test('an account-access consent: TPP name and logo, each permission in plain language by group, how long, own accounts only', async () => {
    const { customer, current, euro, card } = await customerWithAccounts();
    const someoneElse = await customerWithAccounts();
    const body = accountAccessRequest({
      Permissions: [
        'ReadAccountsDetail',
        'ReadBalances',
        'ReadTransactionsDetail',
        'ReadTransactionsCredits',
        'ReadTransactionsDebits',
        'ReadDirectDebits',
        'ReadStandingOrdersBasic',
        'ReadPartyPSU',
      ],
      ExpirationDateTime: '2027-02-23T12:00:00Z',
      TransactionFromDateTime: '2026-01-01T00:00:00Z',
      TransactionToDateTime: '2026-06-30T12:00:00Z',
    });
    const consentId = ((await api.call('POST', ACCOUNT_ACCESS, { body })).body as { Data: { ConsentId: string } }).Data.ConsentId;
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', claims: intentClaims(consentId) });
    const { browser, otp } = await toCodeStep(request.url, customer);
    assert.deepEqual(shownPayments(otp), [], 'no payment on the code step of an account consent');
    const page = await browser.submit(otp, 'otp', { code: customer.nextCode() });

    assert.equal(page.status, 200);
    assert.match(page.body, /<h1>Budget Buddy wants to see information about your accounts<\/h1>/);
    assert.match(page.body, /<img class="requester-logo" src="https:\/\/tpp.example\/logo.png" alt="Budget Buddy logo"/);
    assert.deepEqual(shownGroups(page), [
      // A permission named like its group is not named twice.
      { heading: 'Your account details', permissions: [permissionWording('ReadAccountsDetail').detail] },
      { heading: 'Your balances', permissions: [permissionWording('ReadBalances').detail] },
      {
        heading: 'Your transactions from 1 January 2026 to 30 June 2026',
        permissions: [
          item('Your transactions in full', 'ReadTransactionsDetail'),
          item('Money coming in', 'ReadTransactionsCredits'),
          item('Money going out', 'ReadTransactionsDebits'),
        ],
      },
      {
        heading: 'Your direct debits, standing orders and scheduled payments',
        permissions: [item('Your Direct Debits', 'ReadDirectDebits'), item('Your standing orders', 'ReadStandingOrdersBasic')],
      },
      { heading: 'Your personal details', permissions: [permissionWording('ReadPartyPSU').detail] },
    ]);
    assert.match(page.body, /<p class="duration">Until 23 February 2027, unless you cancel it sooner.<\/p>/);
    assert.doesNotMatch(page.body, /Read[A-Z]\w+/, 'no permission code reaches the customer');
    // Reading may cover every account of the customer's, and nobody else's; none is preselected.
    assert.deepEqual(
      shownAccountChoices(page).toSorted((a, b) => a.label.localeCompare(b.label)),
      [
        { type: 'checkbox', field: card.id, checked: false, label: label(card) },
        { type: 'checkbox', field: current.id, checked: false, label: label(current) },
        { type: 'checkbox', field: euro.id, checked: false, label: label(euro) },
      ],
    );
    assert.ok(!page.body.includes(someoneElse.current.id));
    assert.match(
      page.body,
      /<form method="post" action="\/interaction\/[^/]+\/confirm" novalidate>\s*<input type="hidden" name="csrf_token"/,
      'the approve form carries the CSRF token',
    );
    assert.match(page.body, /<button type="submit">Approve<\/button>/);
    assert.match(page.body, /<button type="submit" class="secondary">Deny<\/button>/);
    assert.match(page.body, /<p class="hint" id="choice-hint">Select at least one account\.<\/p>/, 'several accounts may be shared');
    assert.match(
      page.body,
      /You can stop Budget Buddy’s access at any time, without asking Budget Buddy: sign in at <a href="https:\/\/localhost:\d+\/dashboard">https:\/\/localhost:\d+\/dashboard<\/a> to see and revoke what it can access\./,
    );
  });

  test("the dashboard's address is a link in a sentence that names a hostile TPP, whose name stays text", async () => {
    const hostile = '<script>alert(1)</script> & "Co" <a href="https://evil.example">';
    const hostileTpp = await createTestTpp(assent, { metadata: { client_name: hostile } });
    const hostileApi = await ConsentApiClient.create(assent, hostileTpp);
    const { customer } = await customerWithAccounts();
    const consentId = (
      (await hostileApi.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() })).body as { Data: { ConsentId: string } }
    ).Data.ConsentId;
    const request = await pushAuthorizationRequest(hostileTpp, { scope: 'openid accounts', claims: intentClaims(consentId) });
    const { browser, otp } = await toCodeStep(request.url, customer);
    const page = await browser.submit(otp, 'otp', { code: customer.nextCode() });
    const stopLater = /<p class="stop-later">(.+?)<\/p>/.exec(page.body)?.[1];
    const escaped = '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot; &lt;a href=&quot;https://evil.example&quot;&gt;';
    assert.equal(
      stopLater,
      `You can stop ${escaped}’s access at any time, without asking ${escaped}: sign in at <a href="${assent.issuer}/dashboard">${assent.issuer}/dashboard</a> to see and revoke what it can access.`,
    );
    assert.ok(!page.body.includes('<script>alert'), 'the name never becomes markup anywhere on the page');
    assert.ok(!page.body.includes('href="https://evil.example"'));
  });

  test('a consent without an expiry lasts until cancelled; a logo that is not https is not shown', async () => {
    const plainTpp = await createTestTpp(assent, { metadata: { client_name: 'Plain', logo_uri: 'http://tpp.example/logo.png' } });
    const plainApi = await ConsentApiClient.create(assent, plainTpp);
    const { customer } = await customerWithAccounts();
    const body = accountAccessRequest({ Permissions: ['ReadAccountsBasic'] });
    delete (body.Data as Record<string, unknown>).ExpirationDateTime;
    const created = await plainApi.call('POST', ACCOUNT_ACCESS, { body });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const request = await pushAuthorizationRequest(plainTpp, {
      scope: 'openid accounts',
      claims: intentClaims((created.body as { Data: { ConsentId: string } }).Data.ConsentId),
    });
    const { browser, otp } = await toCodeStep(request.url, customer);
    const page = await browser.submit(otp, 'otp', { code: customer.nextCode() });
    assert.match(page.body, /<p class="duration">Until you cancel it.<\/p>/);
    assert.doesNotMatch(page.body, /<img/);
    assert.deepEqual(shownGroups(page), [
      { heading: 'Your account details', permissions: [item('Your account names and currencies', 'ReadAccountsBasic')] },
    ]);
  });

  test('a payment: the code step and the consent page show amount, currency, payee and reference; only accounts that can pay it are offered', async () => {
    const { customer, current, euro, card } = await customerWithAccounts();
    const consentId = await createPayment();
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid payments', claims: intentClaims(consentId) });
    const { browser, otp } = await toCodeStep(request.url, customer);
    assert.deepEqual(shownPayments(otp), [EXPECTED_PAYMENT]);
    const consent = await getConsent(assent.db, consentId);
    assert.equal(
      CustomerAgent.hiddenFields(otp, 'otp').payment_digest,
      paymentDigest(linkedPaymentOf(consent!)!),
      'the code form carries the digest of what it shows',
    );

    const page = await browser.submit(otp, 'otp', { code: customer.nextCode() });
    assert.match(page.body, /<h1>Budget Buddy wants to make a payment from your account<\/h1>/);
    assert.deepEqual(shownPayments(page), [EXPECTED_PAYMENT]);
    assert.deepEqual(shownGroups(page), []);
    assert.match(page.body, /<p class="duration">For this one payment only.<\/p>/);
    assert.match(page.body, /<legend>Choose the account to pay from<\/legend>/);
    // GBP and not a card: one account, so it is already chosen.
    assert.deepEqual(shownAccountChoices(page), [{ type: 'radio', field: current.id, checked: true, label: label(current) }]);

    for (const notOffered of [euro, card]) {
      const refused = await browser.submit(page, 'confirm', { account: notOffered.id });
      assert.equal(refused.status, 400);
      assert.match(refused.body, /That account cannot be used for this request\. Choose your accounts again\./);
      assert.equal((await getConsent(assent.db, consentId))?.status, 'AwaitingAuthorisation');
    }
    // Exactly one account is needed: the page never asks for "at least one".
    const noChoice = await browser.submit(page, 'confirm', {});
    assert.equal(noChoice.status, 400);
    assert.match(noChoice.body, /<p class="error" role="alert" id="consent-error">Select the account to pay from\.<\/p>/);
    assert.doesNotMatch(noChoice.body, /at least one/);
    assert.match(
      noChoice.body,
      /Until it is made, you can cancel it at <a href="https:\/\/localhost:\d+\/dashboard">https:\/\/localhost:\d+\/dashboard<\/a>; once it has been made, it cannot be cancelled\./,
      'the page says what the customer can still do about the payment, and where',
    );
    const callback = await browser.submit(page, 'confirm', { account: current.id });
    assert.ok(callback.url.searchParams.get('code'), `code: ${callback.url}`);
    const authorised = await getConsent(assent.db, consentId);
    assert.equal(authorised?.status, 'Authorised');
    assert.deepEqual(authorised?.selectedAccountIds, [current.id]);
    const events = await auditHistory(assent.db, 'consent', consentId);
    assert.deepEqual(
      events.map((event) => event.event),
      ['consent.created', 'consent.authorised'],
    );
    assert.equal(
      events[1]?.details?.approvalDigest,
      paymentDigest(linkedPaymentOf(consent!)!),
      'the audit trail records what the customer approved',
    );
  });

  test("a sweeping VRP into the customer's own saver: the saver is not offered to pay from, and neither the page nor the consent service accepts it", async () => {
    const { customer, current } = await customerWithAccounts();
    const saver = await openAccount(assent.db, {
      customerId: customer.id,
      schemeName: 'UK.OBIE.SortCodeAccountNumber',
      identification: String(randomInt(10 ** 13, 10 ** 14 - 1)),
      name: 'Saver',
      currency: 'GBP',
      accountType: 'Personal',
      accountSubtype: 'Savings',
    });
    const created = await api.call('POST', DOMESTIC_VRP, {
      body: domesticVrpRequest(
        {},
        { CreditorAccount: { SchemeName: saver.schemeName, Identification: saver.identification, Name: 'My saver' } },
      ),
      headers: { 'x-idempotency-key': crypto.randomUUID() },
    });
    assert.equal(created.status, 201);
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const request = await pushAuthorizationRequest(tpp, {
      scope: 'openid payments',
      authorization_details: JSON.stringify([{ type: 'domestic_vrp', consent_id: consentId }]),
    });
    const { browser, otp } = await toCodeStep(request.url, customer);
    const page = await browser.submit(otp, 'otp', { code: customer.nextCode() });
    assert.deepEqual(
      shownAccountChoices(page).map((choice) => choice.field),
      [current.id],
      'only the current account: the saver is where the money goes',
    );

    const refused = await browser.submit(page, 'confirm', { account: saver.id });
    assert.equal(refused.status, 400);
    assert.equal((await getConsent(assent.db, consentId))?.status, 'AwaitingAuthorisation');
    // The consent service's own check, for every caller (a decoupled approval, the demo seed), not only the page.
    await assert.rejects(
      authoriseConsent(assent.db, postgresAccountDirectory(assent.db), {
        consentId,
        clientId: tpp.clientId,
        customerId: customer.id,
        accountIds: [saver.id],
        grantId: 'grant-never-saved',
      }),
      AccountSelectionInvalid,
    );
    assert.equal((await getConsent(assent.db, consentId))?.status, 'AwaitingAuthorisation');
  });

  test('dynamic linking: a payment changed after the code step is refused, stays AwaitingAuthorisation, and the TPP gets access_denied', async () => {
    const { customer, current } = await customerWithAccounts();
    const consentId = await createPayment();
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid payments', claims: intentClaims(consentId) });
    const { browser, otp } = await toCodeStep(request.url, customer);
    const page = await browser.submit(otp, 'otp', { code: customer.nextCode() });
    assert.match(page.body, /\/confirm"/, 'the code approved the payment as shown');

    await assent.db.updateTable('consent').set({ instructed_amount: '1165.88' }).where('id', '=', consentId).execute();
    const refused = await browser.submit(page, 'confirm', { account: current.id });
    assert.equal(refused.status, 409);
    assert.match(refused.body, /<h1>This payment was not approved<\/h1>/);
    assert.match(refused.body, /The payment details changed after you confirmed them with your one-time code/);
    const consent = await getConsent(assent.db, consentId);
    assert.equal(consent?.status, 'AwaitingAuthorisation');
    assert.equal(consent?.grantId, null);
    assert.deepEqual(
      (await auditHistory(assent.db, 'consent', consentId)).map((event) => event.event),
      ['consent.created'],
    );
    assert.equal(
      await assent.db
        .selectFrom('oidc_model')
        .select('id')
        .where('model', '=', 'Grant')
        .where(sql`payload->>'accountId'`, '=', customer.id)
        .executeTakeFirst(),
      undefined,
      'no grant survives',
    );

    const returnTo = /<a class="button" href="([^"]+)">/.exec(refused.body)?.[1];
    assert.ok(returnTo, 'the page offers the way back to the TPP');
    const back = await browser.open(new URL(returnTo.replace(/&amp;/g, '&'), assent.issuer));
    assert.equal(back.url.origin + back.url.pathname, tpp.redirectUri);
    assert.equal(back.url.searchParams.get('error'), 'access_denied');
    assert.equal(back.url.searchParams.get('error_description'), 'the payment changed after the customer approved it');
    assert.equal(back.url.searchParams.get('state'), request.state);
  });

  test('dynamic linking: a payment changed after the code step is not shown for approval at all', async () => {
    const { customer } = await customerWithAccounts();
    const consentId = await createPayment();
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid payments', claims: intentClaims(consentId) });
    const { browser, otp } = await toCodeStep(request.url, customer);
    const page = await browser.submit(otp, 'otp', { code: customer.nextCode() });
    await assent.db.updateTable('consent').set({ instructed_currency: 'EUR' }).where('id', '=', consentId).execute();
    const reloaded = await browser.open(page.url);
    assert.equal(reloaded.status, 409);
    assert.match(reloaded.body, /<h1>This payment was not approved<\/h1>/);
    assert.doesNotMatch(reloaded.body, /\/confirm"/, 'no approve form');
    assert.equal((await getConsent(assent.db, consentId))?.status, 'AwaitingAuthorisation');
  });

  test('dynamic linking: a payee changed while the code page was open is shown again instead of approved, and the code is not spent', async () => {
    const { customer, current } = await customerWithAccounts();
    const consentId = await createPayment();
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid payments', claims: intentClaims(consentId) });
    const { browser, otp } = await toCodeStep(request.url, customer);
    const creditor = { scheme: 'sort_code_account', identification: '99999912345678' };
    await assent.db
      .updateTable('consent')
      .set({ creditor_account: JSON.stringify(creditor), creditor_name: 'ACME Inc' })
      .where('id', '=', consentId)
      .execute();

    const code = customer.nextCode();
    const again = await browser.submit(otp, 'otp', { code });
    assert.equal(again.status, 409);
    assert.match(again.body, /The payment details changed while this page was open/);
    assert.equal(
      shownPayments(again)[0]?.['Payee account'],
      'sort code 99-99-99, account 12345678',
      'the page shows the payment as it is now',
    );
    const page = await browser.submit(again, 'otp', { code });
    assert.match(page.body, /\/confirm"/, 'the same code, unspent, approves the payment now shown');
    const callback = await browser.submit(page, 'confirm', { account: current.id });
    assert.ok(callback.url.searchParams.get('code'));
    assert.equal((await getConsent(assent.db, consentId))?.status, 'Authorised');
  });

  test('a payment carried in authorization_details becomes one consent at the code step, which the consent page authorises', async () => {
    const { customer, current } = await customerWithAccounts();
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('PS256'));
    const details = [
      { type: 'payment_initiation', ...domesticPaymentRequest({ InstructedAmount: { Amount: '12.00', Currency: 'GBP' } }).Data },
    ];
    const request = await pushAuthorizationRequest(
      tpp,
      { scope: 'openid payments', authorization_details: JSON.stringify(details) },
      { DPoP: dpop },
    );
    const { browser, otp } = await toCodeStep(request.url, customer);
    assert.equal(shownPayments(otp)[0]?.Amount, '£12.00');
    const page = await browser.submit(otp, 'otp', { code: customer.nextCode() });
    assert.equal(shownPayments(page)[0]?.Amount, '£12.00');
    const callback = await browser.submit(page, 'confirm', { account: current.id });
    const tokens = await oidc.authorizationCodeGrant(
      tpp.config,
      callback.url,
      { pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce },
      undefined,
      { DPoP: dpop },
    );
    const created = await assent.db
      .selectFrom('consent')
      .select(['id', 'status'])
      .where('client_id', '=', tpp.clientId)
      .where('interaction_uid', 'is not', null)
      .execute();
    assert.equal(created.length, 1, 'the code step and the consent step share one consent');
    assert.equal(created[0]?.status, 'Authorised');
    assert.deepEqual(tokens.authorization_details, [{ type: 'payment_initiation', consent_id: created[0]?.id }]);
  });
});

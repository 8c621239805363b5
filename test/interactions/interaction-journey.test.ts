import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { type AccountDirectory, postgresAccountDirectory } from '../../src/customers/account-directory.ts';
import { tlsAgent } from '../support/assent.ts';
import { ACCOUNT_ACCESS, accountAccessRequest, ConsentApiClient, domesticPaymentRequest } from '../support/consent-api.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { oneTimeCode } from '../support/customers.ts';
import { customerWithAccounts, intentClaims } from '../support/granted-consents.ts';
import { statementsDuring } from '../support/statements.ts';
import { pushAuthorizationRequest } from '../support/tpp.ts';
import { useAssent, useTpp } from '../support/fixture.ts';

/**
 * The login and consent journey: GETs never write a consent, approving reads the
 * customer's accounts once, through the account directory server.ts was given (the seam a bank's
 * core banking plugs into).
 */

/** The bank's directory as a bank would plug it in, counting how often the journey asks it. */
function countingDirectory() {
  const calls = { listForCustomer: 0, findOwned: 0 };
  let inner: AccountDirectory | undefined;
  const directory: AccountDirectory = {
    listForCustomer(customerId) {
      calls.listForCustomer += 1;
      return inner!.listForCustomer(customerId);
    },
    findOwned(customerId, ids) {
      calls.findOwned += 1;
      return inner!.findOwned(customerId, ids);
    },
    fundsAvailable(accountId, amount, currency) {
      return inner!.fundsAvailable(accountId, amount, currency);
    },
  };
  return {
    directory,
    calls,
    connect: (next: AccountDirectory) => {
      inner = next;
    },
  };
}

/** The pages' activity statement (interactions/sca-progress-repository.ts). */
const isActivity = (text: string) => text.includes('touched as ( insert into sca_interaction');
/** The adapter's find of oidc_model rows (store/batched-find.ts), on its own or inside another statement. */
const isFind = (text: string) => text.includes('from "oidc_model" as "t"');

describe('the interaction journey', () => {
  const bank = countingDirectory();
  const assent = useAssent({}, { accounts: bank.directory });
  const tpp = useTpp(assent);
  before(async () => {
    bank.connect(postgresAccountDirectory(assent.db));
  });

  const consentsOfTpp = async () =>
    Number(
      (
        await assent.db
          .selectFrom('consent')
          .select(sql<string>`count(*)`.as('n'))
          .where('client_id', '=', tpp.clientId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  test('a consent from authorization_details is created by the password post, never by a GET of a page', async () => {
    const { customer } = await customerWithAccounts(assent);
    const { Initiation, ...rest } = domesticPaymentRequest().Data;
    const details = [{ type: 'payment_initiation', Initiation, ...rest, Risk: domesticPaymentRequest().Risk }];
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid payments', authorization_details: JSON.stringify(details) });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const initially = await consentsOfTpp();

    const login = await browser.open(request.url);
    await browser.open(login.url);
    assert.equal(await consentsOfTpp(), initially, 'a GET of the login page created a consent');

    const fields = { csrf_token: CustomerAgent.csrfToken(login), username: customer.username, password: customer.password };
    const posted = await browser.request(new URL(`${login.url.pathname}/login`, login.url), { form: fields });
    assert.equal(posted.status, 303);
    assert.equal(await consentsOfTpp(), initially + 1, 'the password post drafts the consent');

    const codePage = await browser.open(new URL(posted.headers.get('location')!, login.url));
    await browser.open(codePage.url);
    assert.match(codePage.body, /name="code"/);
    assert.match(codePage.body, /name="payment_digest"/, 'the code page shows the payment it approves');
    assert.equal(await consentsOfTpp(), initially + 1, 'GETs of the code page changed nothing');

    const consentPage = await browser.submit(codePage, 'otp', { code: await oneTimeCode(customer) });
    assert.equal(consentPage.status, 200);
    assert.equal(await consentsOfTpp(), initially + 1);
  });

  test("approving reads the customer's accounts once, through the directory server.ts was given", async () => {
    const { customer, current, savings } = await customerWithAccounts(assent);
    const api = await ConsentApiClient.create(assent, tpp);
    const consentId = ((await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() })).body as { Data: { ConsentId: string } })
      .Data.ConsentId;
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', claims: intentClaims(consentId) });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const page = await browser.signIn(request.url, customer);
    assert.match(page.body, new RegExp(savings.name), 'the page lists the accounts the directory gave');

    bank.calls.listForCustomer = 0;
    bank.calls.findOwned = 0;
    const callback = await browser.submit(page, 'confirm', { [`account:${current.id}`]: 'on', [`account:${savings.id}`]: 'on' });
    assert.ok(callback.url.href.startsWith(tpp.redirectUri), `${callback.url} ${callback.body.slice(0, 200)}`);
    assert.deepEqual(bank.calls, { listForCustomer: 1, findOwned: 0 });
  });

  test('each step reads what it checks in its activity statement: the customer and lockout at sign-in, the decision at approval', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const api = await ConsentApiClient.create(assent, tpp);
    const consentId = ((await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() })).body as { Data: { ConsentId: string } })
      .Data.ConsentId;
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', claims: intentClaims(consentId) });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    let callback: Awaited<ReturnType<CustomerAgent['submit']>> | undefined;
    const statements = await statementsDuring(async () => {
      const page = await browser.signIn(request.url, customer);
      callback = await browser.submit(page, 'confirm', { [`account:${current.id}`]: 'on' });
    });
    assert.ok(callback?.url.href.startsWith(tpp.redirectUri), `approved: ${callback?.url}`);
    const activity = statements.filter(isActivity);
    assert.equal(
      activity.filter((text) => text.includes('as subject') && text.includes('c.username = typed.username')).length,
      1,
      'the password post reads the customer by username with its activity',
    );
    assert.equal(
      activity.filter((text) => text.includes('as subject') && text.includes('c.id = typed.id')).length,
      1,
      'the code post reads the customer who passed the password with its activity',
    );
    const alone = statements.filter((text) => !isActivity(text));
    assert.deepEqual(
      alone.filter((text) => /from "?customer"? .*left join "?login_throttle"?|typed \(username\)|typed \(id\)/.test(text)),
      [],
      'no separate sign-in read',
    );
    assert.deepEqual(
      alone.filter((text) => /select "decision"/.test(text)),
      [],
      'no separate decision read',
    );
  });

  test('a page reads its interaction in its activity statement: the engine loads it without asking again', async () => {
    const { customer } = await customerWithAccounts(assent);
    const api = await ConsentApiClient.create(assent, tpp);
    const consentId = ((await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() })).body as { Data: { ConsentId: string } })
      .Data.ConsentId;
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', claims: intentClaims(consentId) });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const login = await browser.open(request.url);
    for (const [step, run] of [
      ['the login page', () => browser.open(login.url)],
      [
        'the password post',
        () =>
          browser.request(new URL(`${login.url.pathname}/login`, login.url), {
            form: { csrf_token: CustomerAgent.csrfToken(login), username: customer.username, password: customer.password },
          }),
      ],
    ] as const) {
      const statements = await statementsDuring(run);
      assert.equal(
        statements.filter((text) => isActivity(text) && isFind(text)).length,
        1,
        `${step}: the interaction is read in the activity statement`,
      );
      assert.deepEqual(
        statements.filter((text) => isFind(text) && !isActivity(text)),
        [],
        `${step}: no find of its own, got:\n${statements.join('\n')}`,
      );
    }
  });

  test("a browser without the interaction's cookie reads nothing and counts as no activity: the page says the session is gone", async () => {
    const { customer } = await customerWithAccounts(assent);
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts' });
    const owner = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const login = await owner.open(request.url);
    const uid = login.url.pathname.split('/').at(-1)!;
    const activityBefore = await assent.db.selectFrom('sca_interaction').selectAll().where('uid', '=', uid).executeTakeFirst();
    const stranger = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    let answer!: Response;
    const statements = await statementsDuring(async () => {
      answer = await stranger.request(login.url);
    });
    assert.equal(answer.status, 400, 'the styled error page');
    assert.deepEqual(
      statements.filter((text) => text.includes('sca_interaction') || text.includes('from "oidc_model" as "t"')),
      [],
      'no activity, no read',
    );
    assert.deepEqual(await assent.db.selectFrom('sca_interaction').selectAll().where('uid', '=', uid).executeTakeFirst(), activityBefore);
    const posted = await stranger.request(new URL(`${login.url.pathname}/login`, login.url), {
      form: { csrf_token: CustomerAgent.csrfToken(login), username: customer.username, password: customer.password },
    });
    assert.ok(posted.status >= 400 && posted.status < 500, `the stranger's post is refused (${posted.status})`);
  });
});

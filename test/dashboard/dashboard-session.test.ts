import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { ENGINE_PATHS } from '../../src/protocol/routes.ts';
import { de } from '../../src/wording/catalogue-de.ts';
import { en } from '../../src/wording/catalogue-en.ts';
import { type TestAssent, tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer } from '../support/customers.ts';
import { createTestTpp } from '../support/tpp.ts';
import { csrfTokenOf, reachDashboardCallback, signInToDashboard } from '../support/dashboard.ts';
import { useAssent } from '../support/fixture.ts';

function browserFor(assent: TestAssent) {
  return new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
}

describe('dashboard sign-in through Assent as a first-party client, and its own session', () => {
  const assent = useAssent();

  test('without a session every page offers sign-in and shows nothing else', async () => {
    const browser = browserFor(assent);
    for (const path of ['/dashboard', '/dashboard/consents/0b7f0b52-55a1-4b0a-a4a6-3c4c1f5b8b1e']) {
      const page = await browser.open(new URL(path, assent.issuer));
      assert.equal(page.status, 401);
      assert.match(page.body, /href="\/dashboard\/login"/);
      assert.doesNotMatch(page.body, /Signed in as/);
    }
  });

  test('the customer signs in through the authorization endpoint and lands on the dashboard', async () => {
    const customer = await createTestCustomer(assent.db);
    const browser = browserFor(assent);
    const { callback, home } = await signInToDashboard(browser, assent.issuer, customer);

    assert.equal(callback.status, 303);
    const cookie = callback.headers.getSetCookie().find((header) => header.startsWith('__Host-assent-dashboard='));
    assert.ok(cookie, 'the callback sets the session cookie');
    assert.match(cookie, /; path=\/(;|$)/i);
    assert.match(cookie, /; secure(;|$)/i);
    assert.match(cookie, /; httponly(;|$)/i);
    assert.match(cookie, /; samesite=strict(;|$)/i);
    assert.doesNotMatch(cookie, /domain=/i);

    assert.equal(home.status, 200);
    assert.equal(home.url.pathname, '/dashboard');
    assert.match(home.body, /Who can access your accounts/);
    assert.match(
      home.body,
      /<title>Who can access your accounts · Your consents · Assent Demo Bank<\/title>/,
      'the title does not repeat itself',
    );
    assert.match(home.body, new RegExp(`Signed in as ${customer.displayName}</span>`));

    const sessions = await assent.db.selectFrom('dashboard_session').selectAll().where('customer_id', '=', customer.id).execute();
    assert.equal(sessions.length, 1);
    const cookieValue = cookie.split(';')[0]!.split('=')[1]!;
    assert.notEqual(sessions[0]!.id_hash, cookieValue, 'the database holds a hash, not the cookie value');
    assert.equal(sessions[0]!.acr, 'urn:openbanking:psd2:sca', 'signed in with both factors');
  });

  test("the sign-in pages speak of the dashboard in the customer's language, never by a client name", async () => {
    const customer = await createTestCustomer(assent.db);
    for (const [lang, intro, code, cancel] of [
      ['en', en['login.introOwn'], en['otp.introOwn'], en['action.cancelSignIn']],
      ['de', de['login.introOwn'], de['otp.introOwn'], de['action.cancelSignIn']],
    ] as const) {
      const browser = browserFor(assent);
      await browser.open(new URL(`/dashboard?lang=${lang}`, assent.issuer));
      const login = await browser.open(new URL('/dashboard/login', assent.issuer));
      assert.ok(login.body.includes(intro.replace('{bank}', 'Assent Demo Bank')), `${lang}: ${login.body.slice(0, 2000)}`);
      assert.ok(login.body.includes(cancel));
      assert.doesNotMatch(login.body, /consent dashboard|möchte sich/);
      const otp = await browser.submit(login, 'login', { username: customer.username, password: customer.password });
      assert.ok(otp.body.includes(code.replace('{issuer}', 'Assent Demo Bank')), `${lang}: the code page`);
      assert.doesNotMatch(otp.body, /consent dashboard|Your consent/);
    }
  });

  test('the dashboard client follows the FAPI rules: PAR, PKCE, private_key_jwt, DPoP', async () => {
    const client = await assent.db
      .selectFrom('oidc_model')
      .select('payload')
      .where('model', '=', 'Client')
      .where('id', '=', 'assent-dashboard')
      .executeTakeFirstOrThrow();
    const metadata = client.payload;
    assert.equal(metadata.token_endpoint_auth_method, 'private_key_jwt');
    assert.equal(metadata.dpop_bound_access_tokens, true);
    assert.deepEqual(metadata.redirect_uris, [`${assent.issuer}/dashboard/callback`]);
    assert.deepEqual(metadata.grant_types, ['authorization_code']);
    const push = await browserFor(assent).request(new URL('/dashboard/login', assent.issuer));
    const authorization = new URL(push.headers.get('location') ?? '');
    assert.equal(authorization.pathname, '/auth');
    assert.deepEqual(
      [...authorization.searchParams.keys()].toSorted(),
      ['client_id', 'request_uri'],
      'only a PAR request_uri travels through the browser',
    );
  });

  test('a callback works once, and only in the browser that started the sign-in', async () => {
    const customer = await createTestCustomer(assent.db);
    const browser = browserFor(assent);
    const location = await reachDashboardCallback(browser, assent.issuer, customer);
    const stranger = await browserFor(assent).open(location);
    assert.equal(stranger.status, 400, 'another browser cannot complete the sign-in');
    assert.doesNotMatch(stranger.body, /Signed in as/);

    const first = await browser.request(location);
    assert.equal(first.status, 303);
    const replay = await browser.open(location);
    assert.equal(replay.status, 400);
  });

  test('cancelling on the sign-in page comes back as a cancelled sign-in, without a session', async () => {
    const browser = browserFor(assent);
    const login = await browser.open(new URL('/dashboard/login', assent.issuer));
    const token = /name="csrf_token" value="([^"]+)"/.exec(login.body)?.[1];
    const page = await browser.open(new URL(`${login.url.pathname}/abort`, login.url), { form: token ? { csrf_token: token } : {} });
    assert.equal(page.url.pathname, '/dashboard/callback');
    assert.equal(page.status, 400);
    assert.match(page.body, /Sign-in was cancelled/);
    assert.equal((await browser.open(new URL('/dashboard', assent.issuer))).status, 401);
  });

  test('dashboard pages carry the same security headers as the interaction pages', async () => {
    const customer = await createTestCustomer(assent.db);
    const browser = browserFor(assent);
    await signInToDashboard(browser, assent.issuer, customer);
    const response = await browser.request(new URL('/dashboard', assent.issuer));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    assert.equal(response.headers.get('cache-control'), 'no-store');
  });

  test('sign-out needs the CSRF token, then deletes the session', async () => {
    const customer = await createTestCustomer(assent.db);
    const browser = browserFor(assent);
    const { home } = await signInToDashboard(browser, assent.issuer, customer);

    const forged = await browser.open(new URL('/dashboard/logout', assent.issuer), { form: {} });
    assert.equal(forged.status, 403);
    assert.equal((await browser.open(new URL('/dashboard', assent.issuer))).status, 200, 'a forged sign-out changes nothing');

    const out = await browser.open(new URL('/dashboard/logout', assent.issuer), { form: { csrf_token: csrfTokenOf(home) } });
    assert.equal(out.status, 200);
    assert.match(out.body, /You have signed out/);
    const rows = await assent.db.selectFrom('dashboard_session').select('id_hash').where('customer_id', '=', customer.id).execute();
    assert.equal(rows.length, 0);
    assert.equal((await browser.open(new URL('/dashboard', assent.issuer))).status, 401);
  });
});

describe('signing out anywhere ends every Assent session of the browser', () => {
  const assent = useAssent();

  /** The provider's sessions of this customer (its sign-in cookie), as stored. */
  const providerSessions = (customerId: string) =>
    assent.db
      .selectFrom('oidc_model')
      .select('id')
      .where('model', '=', 'Session')
      .where(sql<boolean>`payload->>'accountId' = ${customerId}`)
      .execute();

  test('"Yes, sign me out" at /session/end ends the dashboard\'s session too, and the signed-out page leads to the dashboard', async () => {
    const customer = await createTestCustomer(assent.db);
    const browser = browserFor(assent);
    await signInToDashboard(browser, assent.issuer, customer);
    assert.equal((await browser.open(new URL('/dashboard', assent.issuer))).status, 200);

    const prompt = await browser.open(new URL(ENGINE_PATHS.end_session, assent.issuer));
    const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(prompt.body);
    assert.ok(form, `expected the sign-out form, got ${prompt.status}`);
    const fields = Object.fromEntries([...form[2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((match) => [match[1]!, match[2]!]));
    const done = await browser.open(new URL(form[1]!, assent.issuer), { form: { ...fields, logout: 'yes' } });
    assert.equal(done.status, 200);
    assert.match(done.body, /You are signed out/);
    assert.ok(
      done.body.includes(`<a class="button" href="${assent.issuer}/dashboard">`),
      "the signed-out page leads to the dashboard's start",
    );

    assert.equal((await browser.open(new URL('/dashboard', assent.issuer))).status, 401, 'the dashboard asks for sign-in again');
    const rows = await assent.db.selectFrom('dashboard_session').select('id_hash').where('customer_id', '=', customer.id).execute();
    assert.equal(rows.length, 0, 'the dashboard session is gone from the database, not only from the browser');
  });

  /** "Yes, sign me out" at /session/end with `query`, as the browser posts it; the signed-out page. */
  async function signOutAtProvider(browser: CustomerAgent, query = '') {
    const prompt = await browser.open(new URL(`${ENGINE_PATHS.end_session}${query}`, assent.issuer));
    const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(prompt.body);
    assert.ok(form, `expected the sign-out form, got ${prompt.status}`);
    const fields = Object.fromEntries([...form[2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((match) => [match[1]!, match[2]!]));
    return { prompt, done: await browser.open(new URL(form[1]!, assent.issuer), { form: { ...fields, logout: 'yes' } }) };
  }

  test("a sign-out a TPP asked for leads back to the TPP's own address; the dashboard is not named as a TPP", async () => {
    const tpp = await createTestTpp(assent, { metadata: { client_name: 'Moneywise', client_uri: 'https://moneywise.example/' } });
    const browser = browserFor(assent);
    await signInToDashboard(browser, assent.issuer, await createTestCustomer(assent.db));
    const { prompt, done } = await signOutAtProvider(browser, `?client_id=${encodeURIComponent(tpp.clientId)}`);
    assert.match(prompt.body, /Moneywise asked to sign you out/);
    assert.ok(
      prompt.body.includes(`you can see and stop them at <a href="${assent.issuer}/dashboard">${assent.issuer}/dashboard</a>.`),
      'the prompt links to the dashboard',
    );
    assert.match(done.body, /as Moneywise asked/, `${done.status} ${done.url}`);
    assert.ok(done.body.includes('<a class="button" href="https://moneywise.example/">'), "the way on is the TPP's address");

    const again = browserFor(assent);
    await signInToDashboard(again, assent.issuer, await createTestCustomer(assent.db));
    const own = await signOutAtProvider(again, '?client_id=assent-dashboard');
    assert.doesNotMatch(own.prompt.body, /asked to sign you out/, "the bank's own dashboard is no TPP asking");
    assert.doesNotMatch(own.done.body, /consent dashboard asked/);
    assert.ok(own.done.body.includes(`<a class="button" href="${assent.issuer}/dashboard">`));
  });

  test('"No, stay signed in" at /session/end keeps the dashboard\'s session', async () => {
    const customer = await createTestCustomer(assent.db);
    const browser = browserFor(assent);
    await signInToDashboard(browser, assent.issuer, customer);
    const prompt = await browser.open(new URL(ENGINE_PATHS.end_session, assent.issuer));
    const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(prompt.body);
    const fields = Object.fromEntries([...form![2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((match) => [match[1]!, match[2]!]));
    await browser.open(new URL(form![1]!, assent.issuer), { form: fields });
    assert.equal((await browser.open(new URL('/dashboard', assent.issuer))).status, 200);
  });

  test("signing out of the dashboard ends the provider's session of that browser too", async () => {
    const customer = await createTestCustomer(assent.db);
    const browser = browserFor(assent);
    const { home } = await signInToDashboard(browser, assent.issuer, customer);
    assert.equal((await providerSessions(customer.id)).length, 1, "the dashboard's sign-in went through the provider");
    const out = await browser.open(new URL('/dashboard/logout', assent.issuer), { form: { csrf_token: csrfTokenOf(home) } });
    assert.equal(out.status, 200);
    assert.deepEqual(await providerSessions(customer.id), [], "the provider's session is gone");
    const prompt = await browser.open(new URL(ENGINE_PATHS.end_session, assent.issuer));
    assert.doesNotMatch(prompt.body, /Yes, sign me out/, 'nobody is left signed in to sign out');
  });
});

describe('dashboard session limits', () => {
  const idle = useAssent({ DASHBOARD_IDLE_TIMEOUT: '2' });
  const short = useAssent({ DASHBOARD_SESSION_LIFETIME: '3' });

  test('a session idle for longer than the idle timeout is over', async () => {
    const browser = browserFor(idle);
    await signInToDashboard(browser, idle.issuer, await createTestCustomer(idle.db));
    await sleep(1000);
    assert.equal((await browser.open(new URL('/dashboard', idle.issuer))).status, 200, 'activity keeps it alive');
    await sleep(1000);
    assert.equal((await browser.open(new URL('/dashboard', idle.issuer))).status, 200);
    await sleep(2500);
    const page = await browser.open(new URL('/dashboard', idle.issuer));
    assert.equal(page.status, 401);
    assert.match(page.body, /Sign in to your consents/);
  });

  test('activity does not stretch a session past its lifetime', async () => {
    const browser = browserFor(short);
    await signInToDashboard(browser, short.issuer, await createTestCustomer(short.db));
    for (let i = 0; i < 2; i += 1) {
      assert.equal((await browser.open(new URL('/dashboard', short.issuer))).status, 200);
      await sleep(1000);
    }
    await sleep(1500);
    assert.equal((await browser.open(new URL('/dashboard', short.issuer))).status, 401);
  });
});

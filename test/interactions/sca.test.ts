import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { hashPassword } from '../../src/customers/passwords.ts';
import { SCA_ACR } from '../../src/protocol/acr.ts';
import { tlsAgent } from '../support/assent.ts';
import { CustomerAgent, type Page } from '../support/customer-agent.ts';
import { createTestCustomer, type TestCustomer } from '../support/customers.ts';
import { createTestTpp, pushAuthorizationRequest } from '../support/tpp.ts';
import { useAssent, useTpp } from '../support/fixture.ts';

const LOCKOUT_SECONDS = 4;

/** The page with what differs per attempt blanked: the username typed and the lockout's clock time. */
function normalised(page: Page, username: string) {
  return page.body.replaceAll(username, '<username>').replace(/until \d\d:\d\d (GMT|BST)/, 'until <time>');
}

describe('strong customer authentication: password, then one-time code', () => {
  const assent = useAssent({ LOCKOUT_DURATION: String(LOCKOUT_SECONDS) });
  const tpp = useTpp(assent);

  async function loginPage(parameters: Record<string, string> = {}) {
    const request = await pushAuthorizationRequest(tpp, parameters);
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const login = await browser.open(request.url);
    assert.equal(login.status, 200);
    assert.match(login.body, /name="password"/);
    return { browser, login, request };
  }

  async function otpPage(customer: TestCustomer, parameters: Record<string, string> = {}) {
    const { browser, login, request } = await loginPage(parameters);
    const otp = await browser.submit(login, 'login', { username: customer.username, password: customer.password });
    assert.equal(otp.status, 200);
    assert.match(otp.body, /name="code"/);
    return { browser, otp, request };
  }

  test('both factors give acr urn:openbanking:psd2:sca and amr pwd + otp, also when the TPP requires that acr', async () => {
    const metadata = tpp.config.serverMetadata();
    assert.deepEqual(metadata.acr_values_supported, [SCA_ACR]);
    assert.equal(metadata.claims_parameter_supported, true);

    const customer = await createTestCustomer(assent.db);
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const essential = JSON.stringify({ id_token: { acr: { essential: true, value: SCA_ACR } } });
    const request = await pushAuthorizationRequest(tpp, { claims: essential }, { DPoP: dpop });
    const callback = await new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer).authorize(request.url, customer);
    assert.ok(callback.searchParams.get('code'), `a code for the TPP: ${callback}`);
    const checks = { pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce };
    const tokens = await oidc.authorizationCodeGrant(tpp.config, callback, checks, undefined, { DPoP: dpop });
    const claims = tokens.claims();
    assert.equal(claims?.acr, SCA_ACR);
    assert.deepEqual(claims?.amr, ['pwd', 'otp']);

    const events = (await auditHistory(assent.db, 'customer', customer.id)).map((event) => event.event);
    assert.deepEqual(events, ['customer.created', 'customer.strongly_authenticated']);
  });

  test('the password alone satisfies nothing, even less an essential SCA acr: no consent step, resuming sends the customer back to sign in', async () => {
    const customer = await createTestCustomer(assent.db);
    const { browser, otp } = await otpPage(customer, {
      claims: JSON.stringify({ id_token: { acr: { essential: true, value: SCA_ACR } } }),
    });
    const skipped = await browser.submit(otp, 'confirm');
    assert.equal(skipped.status, 400);
    assert.equal(skipped.url.origin, new URL(assent.issuer).origin, 'no redirect to the TPP');

    const uid = otp.url.pathname.split('/')[2];
    const resumed = await browser.open(new URL(`/auth/${uid}`, assent.issuer));
    assert.equal(resumed.url.origin, new URL(assent.issuer).origin, `resuming must not reach the TPP: ${resumed.url}`);
    assert.equal(resumed.url.searchParams.get('code'), null);
    assert.match(resumed.url.pathname, /^\/interaction\//);
    assert.match(resumed.body, /name="password"/, 'sign-in starts again');
  });

  test('a one-time code is accepted once only', async () => {
    const customer = await createTestCustomer(assent.db);
    const code = customer.nextCode();
    const first = await new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer).authorize((await pushAuthorizationRequest(tpp)).url, {
      ...customer,
      nextCode: () => code,
    });
    assert.ok(first.searchParams.get('code'));

    const { browser, otp } = await otpPage(customer);
    const replayed = await browser.submit(otp, 'otp', { code });
    assert.equal(replayed.status, 401);
    assert.match(replayed.body, /already been used/);
    assert.match(replayed.body, /id="code-error"/);
    const used = await assent.db.selectFrom('used_totp_step').select('step').where('customer_id', '=', customer.id).execute();
    assert.equal(used.length, 1);

    const fresh = await browser.submit(replayed, 'otp', { code: customer.nextCode() });
    assert.match(fresh.body, /name="csrf_token"/);
    assert.doesNotMatch(fresh.body, /name="code"/, 'a new code moves on to the consent page');
  });

  test('every authorization needs its own SCA: a session from an earlier one in the same browser is not enough', async () => {
    const customer = await createTestCustomer(assent.db);
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const first = await browser.authorize((await pushAuthorizationRequest(tpp)).url, customer);
    assert.ok(first.searchParams.get('code'));
    const again = await browser.open((await pushAuthorizationRequest(tpp)).url);
    assert.match(again.url.pathname, /^\/interaction\//);
    assert.match(again.body, /name="password"/, 'the second authorization starts at the password again');
    const second = await browser.authorize((await pushAuthorizationRequest(tpp)).url, customer);
    assert.ok(second.searchParams.get('code'), 'and completes with both factors');
  });

  test('unknown username and wrong password: same status, same body, same argon2 cost', async () => {
    const customer = await createTestCustomer(assent.db);
    const { browser, login } = await loginPage();
    let page = await browser.submit(login, 'login', { username: 'nobody-warm-up', password: 'x' });
    const timings = { unknown: [] as number[], wrong: [] as number[] };
    for (let round = 0; round < 3; round += 1) {
      const unknownName = `nobody-${round}-${customer.username}`;
      let started = performance.now();
      const unknown = await browser.submit(page, 'login', { username: unknownName, password: 'not-the-password' });
      timings.unknown.push(performance.now() - started);
      started = performance.now();
      const wrong = await browser.submit(unknown, 'login', { username: customer.username, password: 'not-the-password' });
      timings.wrong.push(performance.now() - started);

      assert.equal(unknown.status, 401);
      assert.equal(wrong.status, unknown.status);
      assert.equal(normalised(wrong, customer.username), normalised(unknown, unknownName));
      assert.match(wrong.body, /id="password-error">The username or password is not correct\./);
      page = wrong;
    }
    // Load only ever adds time, so the fastest of each is the least noisy view of its cost.
    assert.ok(
      Math.min(...timings.unknown) > Math.min(...timings.wrong) * 0.5,
      `unknown usernames must run argon2 too: ${JSON.stringify(timings)}`,
    );
  });

  test('five consecutive failures lock the username, known or not, for the configured period; the customer is told', async () => {
    const customer = await createTestCustomer(assent.db);
    const unknownName = `nobody-${customer.username}`;
    const { browser, login } = await loginPage();
    const lockedPages: Record<string, Page> = {};
    let lockedAt = 0;
    for (const username of [customer.username, unknownName]) {
      let page = login;
      for (let attempt = 1; attempt <= 4; attempt += 1) {
        page = await browser.submit(page, 'login', { username, password: 'wrong' });
        assert.equal(page.status, 401, `attempt ${attempt}`);
      }
      page = await browser.submit(page, 'login', { username, password: 'wrong' });
      assert.equal(page.status, 429);
      assert.match(
        page.body,
        /Too many failed attempts\. For your security, sign-in for this username is blocked until \d\d:\d\d (GMT|BST)/,
      );
      lockedPages[username] = page;
      if (username === customer.username) {
        lockedAt = Date.now();
        // Checked at once, well inside the lockout however loaded the machine is.
        const stillLocked = await browser.submit(login, 'login', { username: customer.username, password: customer.password });
        assert.equal(stillLocked.status, 429, 'the right password does not open a locked account');
        assert.doesNotMatch(stillLocked.body, /name="code"/);
      }
    }
    assert.equal(normalised(lockedPages[customer.username]!, customer.username), normalised(lockedPages[unknownName]!, unknownName));

    const lockouts = (await auditHistory(assent.db, 'customer', customer.id)).filter((event) => event.event === 'customer.locked_out');
    assert.equal(lockouts.length, 1);
    assert.equal(lockouts[0]!.details.factor, 'pwd');

    await sleep(Math.max(0, lockedAt + LOCKOUT_SECONDS * 1000 + 200 - Date.now()));
    const afterLockout = await browser.submit(login, 'login', { username: customer.username, password: customer.password });
    assert.equal(afterLockout.status, 200);
    assert.match(afterLockout.body, /name="code"/, 'the lockout ended');
  });

  test('failed one-time codes count towards the same lockout, and the customer starts again from the password', async () => {
    const customer = await createTestCustomer(assent.db);
    const { browser, otp } = await otpPage(customer);
    const valid = customer.nextCode();
    const wrongCode = valid === '000000' ? '000001' : '000000';
    let page = otp;
    for (let attempt = 1; attempt <= 4; attempt += 1) {
      page = await browser.submit(page, 'otp', { code: wrongCode });
      assert.equal(page.status, 401);
      assert.match(page.body, /id="code-error">That code is not correct/);
    }
    page = await browser.submit(page, 'otp', { code: wrongCode });
    assert.equal(page.status, 429);
    assert.match(page.body, /Too many failed attempts/);
    assert.match(page.body, /name="password"/);

    const locked = await browser.submit(page, 'otp', { code: valid });
    assert.equal(locked.status, 400, 'the code step is gone until the password is given again');
    const relogin = await browser.submit(page, 'login', { username: customer.username, password: customer.password });
    assert.equal(relogin.status, 429);
    const lockout = (await auditHistory(assent.db, 'customer', customer.id)).find((event) => event.event === 'customer.locked_out');
    assert.equal(lockout?.details.factor, 'otp');
  });

  test('a form without its CSRF token is refused with 403 and changes nothing', async () => {
    const customer = await createTestCustomer(assent.db);
    const { browser, login } = await loginPage();
    const loginUrl = new URL(`${login.url.pathname}/login`, login.url);

    const missing = await browser.open(loginUrl, { form: { username: customer.username, password: 'wrong' } });
    assert.equal(missing.status, 403);
    assert.match(missing.body, /Nothing was changed/);
    const throttle = await assent.db.selectFrom('login_throttle').selectAll().where('username', '=', customer.username).execute();
    assert.deepEqual(throttle, [], 'the failed attempt was not even counted');

    const other = await loginPage();
    const foreign = await browser.open(loginUrl, {
      form: { csrf_token: CustomerAgent.csrfToken(other.login), username: customer.username, password: customer.password },
    });
    assert.equal(foreign.status, 403, "another interaction's token does not fit");
    assert.match((await browser.open(login.url)).body, /name="password"/, 'still at the password step');

    const otp = await browser.submit(login, 'login', { username: customer.username, password: customer.password });
    const code = customer.nextCode();
    const otpUrl = new URL(`${otp.url.pathname}/otp`, otp.url);
    assert.equal((await browser.open(otpUrl, { form: { code } })).status, 403);
    assert.equal((await browser.open(otpUrl, { form: { code, csrf_token: 'forged' } })).status, 403);
    const used = await assent.db.selectFrom('used_totp_step').selectAll().where('customer_id', '=', customer.id).execute();
    assert.deepEqual(used, [], 'the code was not consumed');

    const consent = await browser.submit(otp, 'otp', { code });
    assert.match(consent.body, /\/confirm"/);
    const confirmUrl = new URL(`${consent.url.pathname}/confirm`, consent.url);
    const refused = await browser.open(confirmUrl, { form: {} });
    assert.equal(refused.status, 403);
    const done = await browser.submit(consent, 'confirm');
    assert.ok(done.url.searchParams.get('code'), 'with its token the same form goes through');
  });

  test('a customer without an authenticator is told so and cannot finish signing in', async () => {
    const password = 'a password of a customer from before TOTP';
    const username = `legacy-${Date.now()}`;
    await assent.db
      .insertInto('customer')
      .values({ username, display_name: 'Legacy', password_hash: await hashPassword(password), totp_secret: null })
      .execute();
    const { browser, login } = await loginPage();
    const page = await browser.submit(login, 'login', { username, password });
    assert.equal(page.status, 403);
    assert.match(page.body, /no authenticator app set up/);
    assert.match(page.body, /name="password"/);
    assert.doesNotMatch(page.body, /name="code"/);
  });

  test('pages carry a strict CSP, no inline script or style, and label every field', async () => {
    const customer = await createTestCustomer(assent.db);
    const { browser, login } = await loginPage();
    const response = await browser.request(login.url);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const otp = await browser.submit(login, 'login', { username: customer.username, password: customer.password });
    const wrong = await browser.submit(otp, 'otp', { code: '12' });
    for (const page of [login, otp, wrong]) {
      assert.doesNotMatch(page.body, /<script|<style|\sstyle=|\son[a-z]+=/i);
      const fields = [...page.body.matchAll(/<input id="([^"]+)"/g)].map((match) => match[1]);
      assert.ok(fields.length > 0);
      for (const id of fields) assert.match(page.body, new RegExp(`<label for="${id}">`), `field ${id} has a label`);
    }
    assert.match(wrong.body, /<label for="code">One-time code<\/label>\s*<p class="field-error" id="code-error">Enter the 6-digit code/);
    assert.match(wrong.body, /aria-describedby="code-error"/);
  });
});

describe('limits: inactivity timeout (PSD2 RTS Art. 4) and the cap on argon2 work', () => {
  const assent = useAssent({ SCA_IDLE_TIMEOUT: '1', PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '0' });

  test('after the idle period the customer is told so, nothing proceeds, and the TPP receives access_denied', async () => {
    const tpp = await createTestTpp(assent);
    const customer = await createTestCustomer(assent.db);
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const login = await browser.open((await pushAuthorizationRequest(tpp)).url);
    await sleep(1300);
    const timedOut = await browser.submit(login, 'login', { username: customer.username, password: customer.password });
    assert.equal(timedOut.status, 401);
    assert.match(timedOut.body, /Your session timed out/);
    assert.doesNotMatch(timedOut.body, /name="password"|name="code"/);
    assert.match((await browser.open(login.url)).body, /Your session timed out/, 'coming back later does not revive it');

    const back = await browser.submit(timedOut, 'abort');
    assert.equal(back.url.origin + back.url.pathname, tpp.redirectUri);
    assert.equal(back.url.searchParams.get('error'), 'access_denied');
  });

  test('sign-ins beyond the argon2 cap are turned away with 503, and nothing is counted for them', async () => {
    const tpp = await createTestTpp(assent);
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const login = await browser.open((await pushAuthorizationRequest(tpp)).url);
    const usernames = Array.from({ length: 6 }, (_, index) => `flood-${index}-${Date.now()}`);
    const pages = await Promise.all(usernames.map((username) => browser.submit(login, 'login', { username, password: 'guess' })));
    const statuses = pages.map((page) => page.status);
    assert.ok(statuses.includes(401), `one argon2 run at a time still answers: ${statuses}`);
    assert.ok(statuses.includes(503), `the rest are turned away: ${statuses}`);
    const busy = pages.find((page) => page.status === 503)!;
    assert.match(busy.body, /Too many people are signing in right now/);
    const counted = await assent.db.selectFrom('login_throttle').select('username').where('username', 'in', usernames).execute();
    assert.equal(counted.length, statuses.filter((status) => status === 401).length, 'only the checked attempts count towards a lockout');
  });
});

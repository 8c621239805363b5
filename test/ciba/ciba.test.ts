import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { UnsecuredJWT } from 'jose';
import * as oidc from 'openid-client';
import { pino } from 'pino';
import { fetch } from 'undici';
import { type DecoupledRequestNotice, logAuthenticationDevice } from '../../src/ciba/authentication-device.ts';
import { issueCertificate } from '../../src/http/dev-pki.ts';
import { CIBA_GRANT_TYPE } from '../../src/protocol/ciba.ts';
import { DECOUPLED_PATHS, ENGINE_PATHS } from '../../src/protocol/routes.ts';
import { tlsAgent } from '../support/assent.ts';
import { type CibaTpp, DeviceApp, initiate, intentClaimsObject, pollOnce, registerCibaTpp, signedCibaRequest } from '../support/ciba.ts';
import {
  ACCOUNT_ACCESS,
  accountAccessRequest,
  ConsentApiClient,
  DOMESTIC_PAYMENT,
  domesticPaymentRequest,
} from '../support/consent-api.ts';
import { oneTimeCode, type TestCustomer } from '../support/customers.ts';
import { customerWithAccounts } from '../support/granted-consents.ts';
import { callRegistration, dpopClientMetadata, issueSsa } from '../support/onboarding.ts';
import { sentStatementsDuring } from '../support/statements.ts';
import { createTestTpp } from '../support/tpp.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { csrfTokenOf, signInToDashboard } from '../support/dashboard.ts';
import { useAssent } from '../support/fixture.ts';

/**
 * CIBA end to end: openid-client as the TPP (DCR, signed backchannel requests, polling with DPoP),
 * the customer deciding through the JSON endpoint a bank's app calls (the dashboard page is driven in
 * Chromium in ciba-browser.test.ts), real Postgres and real HTTPS.
 */

const dataOf = (answer: { body: unknown }) => (answer.body as { Data: { ConsentId: string; Status: string } }).Data;

describe('decoupled authentication (CIBA)', () => {
  let tpp: CibaTpp;
  let api: ConsentApiClient;
  let customer: TestCustomer;
  let accounts: Awaited<ReturnType<typeof customerWithAccounts>>;
  let app: DeviceApp;
  const notices: DecoupledRequestNotice[] = [];

  const assent = useAssent(
    { CIBA_POLL_INTERVAL: '1', OUTBOUND_ALLOWED_HOSTS: 'localhost' },
    {
      triggerAuthenticationDevice: async (notice) => {
        notices.push(notice);
      },
    },
  );
  before(async () => {
    tpp = await registerCibaTpp(assent);
    api = await ConsentApiClient.create(assent, tpp, 'accounts payments');
    accounts = await customerWithAccounts(assent);
    customer = accounts.customer;
    app = await DeviceApp.signIn(assent, customer);
  });

  const accountConsent = async () => dataOf(await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() })).ConsentId;
  const paymentConsent = async () =>
    dataOf(await api.call('POST', DOMESTIC_PAYMENT, { body: domesticPaymentRequest(), headers: { 'x-idempotency-key': randomUUID() } }))
      .ConsentId;
  const consentStatus = async (path: string, consentId: string) => dataOf(await api.call('GET', `${path}/${consentId}`)).Status;
  const dpop = async () => oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
  /** The bank's push channel is told after the TPP's answer, not before it: wait for it a little. */
  const noticeOf = async (consentId: string) => {
    for (let tries = 0; tries < 50; tries++) {
      const notice = notices.find((candidate) => candidate.consentId === consentId);
      if (notice) return notice;
      await sleep(100);
    }
    return undefined;
  };
  /** The pending request of a consent, as the customer's app lists it. */
  const listed = async (consentId: string) => (await app.pending()).find((request) => request.consent.id === consentId);

  test('DCR takes the CIBA metadata (poll or ping, signed requests), refuses push, and discovery advertises CIBA', async () => {
    const discovery = (await (
      await fetch(`${assent.issuer}/.well-known/openid-configuration`, { dispatcher: tlsAgent(assent.ca.certPem) })
    ).json()) as Record<string, unknown>;
    assert.equal(discovery.backchannel_authentication_endpoint, `${assent.issuer}${ENGINE_PATHS.backchannel_authentication}`);
    assert.deepEqual(discovery.backchannel_token_delivery_modes_supported, ['poll', 'ping']);
    assert.deepEqual(discovery.backchannel_authentication_request_signing_alg_values_supported, ['PS256', 'ES256']);
    assert.ok((discovery.grant_types_supported as string[]).includes(CIBA_GRANT_TYPE));

    const kit = await issueSsa(assent, { name: 'Refused Till' });
    const register = (ciba: Record<string, unknown>) =>
      callRegistration(assent, kit.agent, { json: dpopClientMetadata(kit, { grant_types: [CIBA_GRANT_TYPE], ...ciba }) });
    const push = await register({
      backchannel_token_delivery_mode: 'push',
      backchannel_client_notification_endpoint: 'https://till.example/cb',
      backchannel_authentication_request_signing_alg: 'PS256',
    });
    assert.equal(push.status, 400);
    assert.equal(push.body.error, 'invalid_client_metadata');
    const unsigned = await register({ backchannel_token_delivery_mode: 'poll' });
    assert.equal(unsigned.status, 400);
    assert.match(String(unsigned.body.error_description), /backchannel_authentication_request_signing_alg/);
    const hs256 = await register({ backchannel_token_delivery_mode: 'poll', backchannel_authentication_request_signing_alg: 'HS256' });
    assert.equal(hs256.status, 400);
    const plainPing = await register({
      backchannel_token_delivery_mode: 'ping',
      backchannel_client_notification_endpoint: 'http://till.example/cb',
      backchannel_authentication_request_signing_alg: 'PS256',
    });
    assert.equal(plainPing.status, 400);
  });

  test('a request must be signed, name its consent and carry a binding message', async () => {
    const consentId = await accountConsent();
    const refused = async (parameters: Record<string, string>) => {
      const error = await oidc.initiateBackchannelAuthentication(tpp.config, parameters).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof oidc.ResponseBodyError, `refused: ${String(error)}`);
      return error;
    };
    const plain = await refused({
      scope: 'openid accounts',
      login_hint: customer.username,
      binding_message: 'ABC',
      claims: JSON.stringify(intentClaimsObject(consentId)),
    });
    assert.equal(plain.error, 'invalid_request');
    const unbound = await refused({
      request: await signedCibaRequest(assent, tpp, { login_hint: customer.username, binding_message: 'ABC' }),
    });
    assert.equal(unbound.error, 'invalid_request');
    assert.match(String(unbound.error_description), /consent/);
    const noMessage = await refused({
      request: await signedCibaRequest(assent, tpp, { login_hint: customer.username, claims: intentClaimsObject(consentId) }),
    });
    assert.equal(noMessage.error, 'invalid_binding_message');
    const otherConsent = await refused({
      request: await signedCibaRequest(assent, tpp, {
        login_hint: customer.username,
        binding_message: 'ABC',
        claims: intentClaimsObject(randomUUID()),
      }),
    });
    assert.equal(otherConsent.error, 'invalid_request');
    // JSON numbers in the signed request object are not text that happens to be digits.
    const numericMessage = await refused({
      request: await signedCibaRequest(assent, tpp, {
        login_hint: customer.username,
        binding_message: 1234,
        claims: intentClaimsObject(consentId),
      }),
    });
    assert.deepEqual(
      [numericMessage.error, numericMessage.error_description],
      ['invalid_binding_message', 'binding_message must be a string of 1 to 40 letters, digits, spaces or . , : ; ! ? # + / _ -'],
    );
    const numericHint = await refused({
      request: await signedCibaRequest(assent, tpp, { login_hint: 12345, binding_message: 'ABC', claims: intentClaimsObject(consentId) }),
    });
    assert.deepEqual(
      [numericHint.error, numericHint.error_description],
      ['invalid_request', "login_hint must be a string (the customer's username)"],
    );
    assert.equal(await listed(consentId), undefined, 'nothing reached the customer');
  });

  test('account access: the customer approves in the app with the one-time code; the TPP polls and gets DPoP-bound tokens for the consent', async () => {
    const consentId = await accountConsent();
    const handle = await dpop();
    const started = await initiate(assent, tpp, {
      login_hint: customer.username,
      binding_message: 'TILL 42',
      claims: intentClaimsObject(consentId),
    });
    assert.equal(started.interval, 1);
    assert.ok(started.expires_in > 0 && started.expires_in <= 300);
    // Settled either way, so a failed assertion below leaves no polling behind the test.
    const tokens = oidc
      .pollBackchannelAuthenticationGrant(tpp.config, started, undefined, { DPoP: handle, signal: AbortSignal.timeout(60_000) })
      .then(
        (value) => value,
        (error: unknown) => error as Error,
      );

    const request = await listed(consentId);
    assert.ok(request, 'the request is listed for the customer');
    assert.equal(request.binding_message, 'TILL 42');
    assert.equal(request.consent.heading, 'Till Pay wants to see information about your accounts');
    const notice = await noticeOf(consentId);
    assert.equal(notice?.requestId, request.id, "the bank's push channel was told");
    assert.equal(notice?.bindingMessage, 'TILL 42');
    assert.equal(notice?.customerId, customer.id);

    const wrong = await app.approve(request.id, { code: '000000', account_ids: [accounts.current.id] });
    assert.deepEqual(wrong, {
      status: 403,
      body: {
        error: 'invalid_code',
        error_description: 'That code is not correct. Check the 6-digit code in your authenticator app and try again.',
      },
    });
    const approved = await app.approve(request.id, {
      code: await oneTimeCode(customer),
      account_ids: [accounts.current.id, accounts.savings.id],
    });
    assert.deepEqual(approved, { status: 200, body: { status: 'approved' } });

    const issued = await tokens;
    if (issued instanceof Error) throw issued;
    assert.equal(issued.token_type.toLowerCase(), 'dpop');
    assert.equal(issued.claims()?.openbanking_intent_id, consentId);
    assert.equal(issued.claims()?.sub, customer.id);
    assert.equal(await consentStatus(ACCOUNT_ACCESS, consentId), 'Authorised');
    assert.equal(await listed(consentId), undefined, 'a decided request leaves the list');

    // Refused before any code is checked (the decision is taken): any code will do.
    const again = await app.approve(request.id, { code: '123456', account_ids: [accounts.current.id] });
    assert.deepEqual(
      again,
      {
        status: 409,
        body: {
          error: 'already_decided',
          error_description: 'This request has already been answered or has expired. Nothing was changed.',
        },
      },
      'a second approval decides nothing',
    );

    // The ID token names the customer for the next request (id_token_hint).
    const nextConsent = await accountConsent();
    await initiate(assent, tpp, { id_token_hint: issued.id_token, binding_message: 'TILL 43', claims: intentClaimsObject(nextConsent) });
    assert.ok(await listed(nextConsent), 'an id_token_hint names the customer');
  });

  test('a payment: the device shows it and the code approves exactly that payment (dynamic linking); login_hint_token and authorization_details', async () => {
    const consentId = await paymentConsent();
    const hintToken = new UnsecuredJWT({ sub_id: { format: 'opaque', id: customer.username } }).encode();
    const started = await initiate(assent, tpp, {
      scope: 'openid payments',
      login_hint_token: hintToken,
      binding_message: 'PAY 7',
      authorization_details: [{ type: 'payment_initiation', consent_id: consentId }],
    });
    const request = await listed(consentId);
    assert.ok(request?.payment_digest, 'the payment is listed with the digest of what is shown');
    // Refused before the code is checked (what was shown is not what would be paid): any code will do.
    const changed = await app.approve(request.id, {
      code: '123456',
      account_ids: [accounts.current.id],
      payment_digest: 'not-what-was-shown',
    });
    assert.equal(changed.status, 409);
    assert.equal(changed.body.error, 'payment_changed');
    assert.equal(await consentStatus(DOMESTIC_PAYMENT, consentId), 'AwaitingAuthorisation', 'a refused approval changes nothing');
    const approved = await app.approve(request.id, {
      code: await oneTimeCode(customer),
      account_ids: [accounts.current.id],
      payment_digest: request.payment_digest,
    });
    assert.equal(approved.status, 200);
    const issued = await oidc.pollBackchannelAuthenticationGrant(tpp.config, started, undefined, { DPoP: await dpop() });
    assert.deepEqual(
      issued.authorization_details?.map((detail) => detail.consent_id),
      [consentId],
    );
    assert.equal(await consentStatus(DOMESTIC_PAYMENT, consentId), 'Authorised');
    const audit = await assent.db
      .selectFrom('audit_event')
      .select(['event', 'details'])
      .where('subject_type', '=', 'consent')
      .where('subject_id', '=', consentId)
      .where('event', '=', 'consent.authorised')
      .executeTakeFirstOrThrow();
    assert.equal(
      (audit.details as { approvalDigest?: string }).approvalDigest,
      request.payment_digest,
      'the approved payment is on the audit trail',
    );
  });

  test('authorization_details that describe the payment become its consent; the tokens name it', async () => {
    const { customer: payer, current } = await customerWithAccounts(assent);
    const payerApp = await DeviceApp.signIn(assent, payer);
    const detail = {
      type: 'payment_initiation',
      ...domesticPaymentRequest({ InstructedAmount: { Amount: '12.00', Currency: 'GBP' } }).Data,
    };
    const started = await initiate(assent, tpp, {
      scope: 'openid payments',
      login_hint: payer.username,
      binding_message: 'PAY 12',
      authorization_details: [detail],
    });
    const [request] = await payerApp.pending();
    assert.ok(request?.payment_digest);
    assert.equal(await consentStatus(DOMESTIC_PAYMENT, request.consent.id), 'AwaitingAuthorisation', "the consent exists, the TPP's own");
    assert.equal(
      (
        await payerApp.approve(request.id, {
          code: await oneTimeCode(payer),
          account_ids: [current.id],
          payment_digest: request.payment_digest,
        })
      ).status,
      200,
    );
    const issued = await oidc.pollBackchannelAuthenticationGrant(tpp.config, started, undefined, { DPoP: await dpop() });
    assert.deepEqual(issued.authorization_details, [{ type: 'payment_initiation', consent_id: request.consent.id }]);
    assert.equal(await consentStatus(DOMESTIC_PAYMENT, request.consent.id), 'Authorised');
  });

  test('the dashboard counts a decoupled request under "Waiting for you" and leads to where it is answered', async () => {
    const waiting = await customerWithAccounts(assent);
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const { home } = await signInToDashboard(browser, assent.issuer, waiting.customer);
    const open = (path: string, form?: Record<string, string>) => browser.open(new URL(path, assent.issuer), form ? { form } : {});
    assert.match(home.body, /Waiting for you <span class="count">\(0\)<\/span>/);

    const consentId = await accountConsent();
    await initiate(assent, tpp, {
      login_hint: waiting.customer.username,
      binding_message: 'TILL 7',
      claims: intentClaimsObject(consentId),
    });
    assert.match((await open('/dashboard')).body, /Waiting for you <span class="count">\(1\)<\/span>/, 'counted on every tab');
    const pending = await open('/dashboard?tab=pending');
    assert.match(
      pending.body,
      new RegExp(
        `A provider asked, from another device, for your approval of one request\\. <a href="${DECOUPLED_PATHS.page}">See and answer them</a>`,
      ),
    );
    assert.doesNotMatch(pending.body, /Nothing is waiting for your answer/);

    const device = await open(DECOUPLED_PATHS.page);
    const requestId = new RegExp(`action="${DECOUPLED_PATHS.page}/([0-9a-f-]{36})/deny"`).exec(device.body)?.[1];
    assert.ok(requestId, 'the linked page lists the request');
    assert.match(device.body, /TILL 7/);
    await open(`${DECOUPLED_PATHS.page}/${requestId}/deny`, { csrf_token: csrfTokenOf(device) });
    assert.match(
      (await open('/dashboard?tab=pending')).body,
      /Waiting for you <span class="count">\(0\)<\/span>[\s\S]*Nothing is waiting for your answer/,
      'an answered request is no longer counted',
    );
  });

  test('denial: the consent is Rejected and the TPP hears access_denied', async () => {
    const consentId = await accountConsent();
    const handle = await dpop();
    const started = await initiate(assent, tpp, {
      login_hint: customer.username,
      binding_message: 'NO 1',
      claims: intentClaimsObject(consentId),
    });
    const request = await listed(consentId);
    assert.ok(request);
    assert.deepEqual(await app.deny(request.id), { status: 200, body: { status: 'denied' } });
    assert.equal(await pollOnce(tpp, started.auth_req_id, handle), 'access_denied');
    assert.equal(await consentStatus(ACCOUNT_ACCESS, consentId), 'Rejected');
    const events = await assent.db
      .selectFrom('audit_event')
      .select('event')
      .where('subject_type', '=', 'decoupled_request')
      .where('subject_id', '=', request.id)
      .orderBy('seq')
      .execute();
    assert.deepEqual(
      events.map((row) => row.event),
      ['decoupled_request.requested', 'decoupled_request.denied'],
    );
    assert.equal(
      (await app.approve(request.id, { code: '123456', account_ids: [accounts.current.id] })).status,
      409,
      'a denied request cannot be approved',
    );
  });

  test('polling faster than the interval earns slow_down; a request left alone ends in expired_token', async () => {
    const consentId = await accountConsent();
    const handle = await dpop();
    const started = await initiate(assent, tpp, {
      login_hint: customer.username,
      binding_message: 'WAIT',
      claims: intentClaimsObject(consentId),
      requested_expiry: 3,
    });
    assert.equal(started.expires_in, 3, 'requested_expiry shortens the request');
    assert.equal(await pollOnce(tpp, started.auth_req_id, handle), 'authorization_pending');
    assert.equal(await pollOnce(tpp, started.auth_req_id, handle), 'slow_down', 'a second poll within the interval');
    await sleep(1100);
    assert.equal(await pollOnce(tpp, started.auth_req_id, handle), 'authorization_pending', 'after the interval, polling is welcome again');
    const request = await listed(consentId);
    assert.ok(request);
    await sleep(3000);
    assert.equal(await pollOnce(tpp, started.auth_req_id, handle), 'expired_token');
    assert.equal(await listed(consentId), undefined, 'an expired request leaves the list');
    const late = await app.approve(request.id, { code: '123456', account_ids: [accounts.current.id] });
    assert.equal(late.status, 409);
    assert.equal(await consentStatus(ACCOUNT_ACCESS, consentId), 'AwaitingAuthorisation', 'expiry changes nothing for the consent');
  });

  test('two approvals of one request at once: one grant, one audit event, the other told it is decided', async () => {
    // A customer of its own: each code is accepted once, and the main customer's are spent.
    const { customer: racer, current } = await customerWithAccounts(assent);
    const racerApp = await DeviceApp.signIn(assent, racer);
    const consentId = await accountConsent();
    const started = await initiate(assent, tpp, {
      login_hint: racer.username,
      binding_message: 'TWICE',
      claims: intentClaimsObject(consentId),
    });
    const request = (await racerApp.pending()).find((candidate) => candidate.consent.id === consentId);
    assert.ok(request);
    const codes = [await oneTimeCode(racer), await oneTimeCode(racer)];
    const answers = await Promise.all(codes.map((code) => racerApp.approve(request.id, { code, account_ids: [current.id] })));
    assert.deepEqual(answers.map((answer) => answer.status).toSorted(), [200, 409]);
    const grants = await assent.db
      .selectFrom('oidc_model')
      .select('id')
      .where('model', '=', 'Grant')
      .where(({ eb, ref }) => eb(ref('payload', '->>').key('accountId' as never), '=', racer.id))
      .where(({ eb, ref }) => eb(ref('payload', '->>').key('clientId' as never), '=', tpp.clientId))
      .execute();
    const row = await assent.db
      .selectFrom('decoupled_request')
      .select(['grant_id', 'status'])
      .where('id', '=', request.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.status, 'approved');
    assert.ok(
      grants.some((grant) => grant.id === row.grant_id),
      "the request's grant exists",
    );
    const consentGrant = await assent.db.selectFrom('consent').select('grant_id').where('id', '=', consentId).executeTakeFirstOrThrow();
    assert.equal(consentGrant.grant_id, row.grant_id, 'the consent lives in that one grant');
    const approvals = await assent.db
      .selectFrom('audit_event')
      .select('event')
      .where('subject_type', '=', 'decoupled_request')
      .where('subject_id', '=', request.id)
      .orderBy('seq')
      .execute();
    assert.deepEqual(
      approvals.map((event) => event.event),
      ['decoupled_request.requested', 'decoupled_request.approved'],
    );
    const issued = await oidc.pollBackchannelAuthenticationGrant(tpp.config, started, undefined, { DPoP: await dpop() });
    assert.equal(issued.claims()?.openbanking_intent_id, consentId);
  });

  test("an approval writes the grant and the provider's result in one statement, the last of its transaction", async () => {
    const { customer: approver, current } = await customerWithAccounts(assent);
    const approverApp = await DeviceApp.signIn(assent, approver);
    const consentId = await accountConsent();
    const started = await initiate(assent, tpp, {
      login_hint: approver.username,
      binding_message: 'ONCE',
      claims: intentClaimsObject(consentId),
    });
    const request = (await approverApp.pending()).find((candidate) => candidate.consent.id === consentId);
    assert.ok(request);
    const code = await oneTimeCode(approver);
    const sent = await sentStatementsDuring(async () =>
      assert.equal((await approverApp.approve(request.id, { code, account_ids: [current.id] })).status, 200),
    );
    const statements = sent.map((statement) => statement.text);
    const writes = sent.filter((statement) => /^(insert into|update|delete from) "oidc_model"/.test(statement.text));
    assert.equal(writes.length, 1, statements.join('\n'));
    assert.match(writes[0]!.text, /values \(\$1, .*\), \(\$8, /, 'the grant and the request, one statement');
    // The next statement on the write's own connection (background work sends on others).
    const onItsConnection = sent.slice(sent.indexOf(writes[0]!) + 1).filter((statement) => statement.connection === writes[0]!.connection);
    assert.equal(onItsConnection[0]?.text, 'commit', statements.join('\n'));
    const issued = await oidc.pollBackchannelAuthenticationGrant(tpp.config, started, undefined, { DPoP: await dpop() });
    assert.equal(issued.claims()?.openbanking_intent_id, consentId);
  });

  test('a customer who does not exist, or is disabled, gets the same answer as one who does, and nobody is told', async () => {
    const answerFor = async (loginHint: string) => {
      const consentId = await accountConsent();
      const started = await initiate(assent, tpp, { login_hint: loginHint, binding_message: 'WHO', claims: intentClaimsObject(consentId) });
      return { started, consentId };
    };
    const known = await answerFor(customer.username);
    const unknown = await answerFor(`nobody-${randomUUID()}`);
    const { customer: disabledCustomer } = await customerWithAccounts(assent);
    await assent.db.updateTable('customer').set({ disabled_at: new Date() }).where('id', '=', disabledCustomer.id).execute();
    const disabled = await answerFor(disabledCustomer.username);
    assert.deepEqual(Object.keys(disabled.started).toSorted(), Object.keys(known.started).toSorted());
    assert.deepEqual(Object.keys(unknown.started).toSorted(), Object.keys(known.started).toSorted());
    assert.equal(unknown.started.expires_in, known.started.expires_in);
    assert.equal(unknown.started.interval, known.started.interval);
    const handle = await dpop();
    assert.equal(await pollOnce(tpp, unknown.started.auth_req_id, handle), 'authorization_pending');
    assert.equal(await pollOnce(tpp, known.started.auth_req_id, handle), 'authorization_pending');
    await sleep(200);
    assert.ok(
      notices.some((notice) => notice.consentId === known.consentId),
      "the known customer's device was told",
    );
    assert.ok(!notices.some((notice) => notice.consentId === unknown.consentId), 'no device is told of a request for nobody');
    assert.ok(!notices.some((notice) => notice.consentId === disabled.consentId), 'no device is told of a request for a disabled customer');
  });

  test("the JSON endpoint needs the customer's session and JSON bodies", async () => {
    const anonymous = await fetch(`${assent.issuer}${DECOUPLED_PATHS.api}`, { dispatcher: tlsAgent(assent.ca.certPem) });
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { error: string }).error, 'login_required');
    const form = await app.call('POST', `${DECOUPLED_PATHS.api}/${randomUUID()}/deny`, 'a=b', 'application/x-www-form-urlencoded');
    assert.equal(form.status, 415, 'a cross-site form cannot post here');
    assert.equal((await app.deny(randomUUID())).status, 404);
    assert.equal((await app.deny('not-a-uuid')).status, 404);
  });

  test('the JSON endpoint words a refused body as invalid_request, through the one error handler', async () => {
    const id = randomUUID();
    const form = await app.call('POST', `${DECOUPLED_PATHS.api}/${id}/deny`, 'a=b', 'application/x-www-form-urlencoded');
    assert.deepEqual(form, { status: 415, body: { error: 'invalid_request', error_description: 'expected application/json' } });
    const malformed = await app.call('POST', `${DECOUPLED_PATHS.api}/${id}/approve`, '{');
    assert.deepEqual(malformed, { status: 400, body: { error: 'invalid_request', error_description: 'the body is not JSON' } });
    const shapeless = await app.call('POST', `${DECOUPLED_PATHS.api}/${id}/approve`, { code: 123456 });
    assert.equal(shapeless.status, 400);
    assert.equal(shapeless.body.error, 'invalid_request');
    assert.match(String(shapeless.body.error_description), /^expected \{"code": "<6 digits>"/);
    const anonymous = await fetch(`${assent.issuer}${DECOUPLED_PATHS.api}`, { dispatcher: tlsAgent(assent.ca.certPem) });
    assert.deepEqual(await anonymous.json(), { error: 'login_required', error_description: 'sign in to the dashboard first' });
  });

  test('ping mode: the TPP is notified through the SSRF guard once the approval is committed; a forbidden endpoint is never called', async () => {
    const pings: { authorization: string | undefined; body: string }[] = [];
    const pair = await issueCertificate(assent.ca, { subject: 'CN=localhost', dnsNames: ['localhost'], usage: 'server' });
    const receiver = https.createServer({ cert: pair.certPem, key: pair.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        pings.push({ authorization: req.headers.authorization, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    try {
      const { customer: pinged, current } = await customerWithAccounts(assent);
      const pingedApp = await DeviceApp.signIn(assent, pinged);
      // localhost is allowed (OUTBOUND_ALLOWED_HOSTS); the loopback address itself is not.
      for (const [host, reachable] of [
        ['localhost', true],
        ['127.0.0.1', false],
      ] as const) {
        const pingTpp = await registerCibaTpp(
          assent,
          { backchannel_token_delivery_mode: 'ping', backchannel_client_notification_endpoint: `https://${host}:${port}/ciba` },
          `Ping ${host}`,
        );
        const pingApi = await ConsentApiClient.create(assent, pingTpp, 'accounts payments');
        const consentId = dataOf(await pingApi.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() })).ConsentId;
        const token = `notify-${randomUUID()}`;
        const started = await initiate(assent, pingTpp, {
          login_hint: pinged.username,
          binding_message: 'PING',
          claims: intentClaimsObject(consentId),
          client_notification_token: token,
        });
        const request = (await pingedApp.pending()).find((candidate) => candidate.consent.id === consentId);
        assert.ok(request);
        assert.equal((await pingedApp.approve(request.id, { code: await oneTimeCode(pinged), account_ids: [current.id] })).status, 200);
        // The ping follows the commit without holding up the customer: wait for it a little.
        let ping;
        for (let tries = 0; tries < (reachable ? 50 : 10) && !ping; tries++) {
          await sleep(100);
          ping = pings.find((candidate) => candidate.authorization === `Bearer ${token}`);
        }
        if (reachable) {
          assert.ok(ping, 'the notification endpoint was pinged');
          assert.deepEqual(JSON.parse(ping.body), { auth_req_id: started.auth_req_id });
        } else {
          assert.equal(ping, undefined, 'the guard refused the loopback address');
        }
        // Pinged or not, the committed result is there to fetch.
        const tokens = await pollOnce(
          pingTpp,
          started.auth_req_id,
          oidc.getDPoPHandle(pingTpp.config, await oidc.randomDPoPKeyPair('ES256')),
        );
        assert.equal(typeof tokens === 'string' ? tokens : tokens.token_type.toLowerCase(), 'dpop');
      }
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  test("dev mode's authentication device logs what the customer will see, never a credential", async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    await logAuthenticationDevice(logger)({
      requestId: randomUUID(),
      customerId: customer.id,
      clientId: tpp.clientId,
      tppName: 'Till Pay',
      bindingMessage: 'TILL 9',
      consentId: randomUUID(),
      expiresAt: new Date(),
    });
    assert.equal(lines.length, 1);
    const logged = JSON.parse(lines[0]!) as { msg: string; decoupledRequest: Record<string, unknown> };
    assert.match(logged.msg, /\/dashboard\/decoupled/);
    assert.equal(logged.decoupledRequest.bindingMessage, 'TILL 9');
    assert.deepEqual(Object.keys(logged.decoupledRequest).toSorted(), [
      'bindingMessage',
      'clientId',
      'consentId',
      'customerId',
      'expiresAt',
      'requestId',
      'tppName',
    ]);
  });

  test('an mTLS client gets tokens bound to its certificate, like the redirect flow', async () => {
    const mtlsTpp = await createTestTpp(assent, {
      auth: 'tls_client_auth',
      metadata: {
        grant_types: ['client_credentials', CIBA_GRANT_TYPE],
        backchannel_token_delivery_mode: 'poll',
        backchannel_authentication_request_signing_alg: 'PS256',
      },
    });
    const mtlsApi = await ConsentApiClient.create(assent, mtlsTpp, 'accounts payments');
    const consentId = dataOf(await mtlsApi.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() })).ConsentId;
    const { customer: holder, current } = await customerWithAccounts(assent);
    const holderApp = await DeviceApp.signIn(assent, holder);
    const started = await initiate(assent, mtlsTpp, {
      login_hint: holder.username,
      binding_message: 'CERT',
      claims: intentClaimsObject(consentId),
    });
    const request = (await holderApp.pending()).find((candidate) => candidate.consent.id === consentId);
    assert.ok(request);
    assert.equal((await holderApp.approve(request.id, { code: await oneTimeCode(holder), account_ids: [current.id] })).status, 200);
    const tokens = await pollOnce(mtlsTpp, started.auth_req_id);
    assert.ok(typeof tokens !== 'string', `tokens: ${String(tokens)}`);
    const introspected = await oidc.tokenIntrospection(mtlsTpp.config, tokens.access_token);
    assert.equal(introspected.active, true);
    assert.ok((introspected.cnf as Record<string, unknown> | undefined)?.['x5t#S256'], 'bound to the client certificate');
    assert.equal(introspected.consent_id, consentId);
  });

  test('the JSON endpoint answers as the OpenAPI document describes it', async () => {
    type Operation = { responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> };
    const document = (await (await fetch(`${assent.issuer}/openapi.json`, { dispatcher: tlsAgent(assent.ca.certPem) })).json()) as {
      paths: Record<string, Record<string, Operation>>;
      components: unknown;
    };
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ $id: 'openapi', components: document.components });
    const described = (path: string, method: string, answer: { status: number; body: unknown }) => {
      const schema = document.paths[path]?.[method]?.responses[String(answer.status)]?.content?.['application/json']?.schema;
      assert.ok(schema?.$ref, `${method.toUpperCase()} ${path} declares ${answer.status}`);
      const validate = ajv.getSchema(`openapi${schema.$ref}`)!;
      assert.ok(
        validate(answer.body),
        `${method.toUpperCase()} ${path} ${answer.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(answer.body)}`,
      );
    };
    const { customer: reader, current } = await customerWithAccounts(assent);
    const readerApp = await DeviceApp.signIn(assent, reader);
    const consentId = await paymentConsent();
    const started = await initiate(assent, tpp, {
      scope: 'openid payments',
      login_hint: reader.username,
      binding_message: 'DOC',
      claims: intentClaimsObject(consentId),
    });
    described(ENGINE_PATHS.backchannel_authentication, 'post', { status: 200, body: { ...started } });
    const list = await readerApp.call('GET', DECOUPLED_PATHS.api);
    described(`${DECOUPLED_PATHS.api}`, 'get', list);
    const request = (list.body.requests as { id: string; payment_digest: string }[])[0]!;
    const approve = `${DECOUPLED_PATHS.api}/{id}/approve`;
    described(
      approve,
      'post',
      await readerApp.approve(request.id, { code: '12', account_ids: [current.id], payment_digest: request.payment_digest }),
    );
    described(
      approve,
      'post',
      await readerApp.approve(request.id, { code: '000000', account_ids: [current.id], payment_digest: request.payment_digest }),
    );
    described(
      approve,
      'post',
      await readerApp.approve(request.id, {
        code: await oneTimeCode(reader),
        account_ids: [current.id],
        payment_digest: request.payment_digest,
      }),
    );
    described(
      approve,
      'post',
      await readerApp.approve(request.id, { code: '123456', account_ids: [current.id], payment_digest: request.payment_digest }),
    );
    described(`${DECOUPLED_PATHS.api}/{id}/deny`, 'post', await readerApp.deny(randomUUID()));
  });
});

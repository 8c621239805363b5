import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { fetch, request } from 'undici';
import { DASHBOARD_PREFIX, DECOUPLED_PATHS, EVENT_API_PATHS, OB_API_PREFIX } from '../../src/protocol/routes.ts';
import { tlsAgent } from '../support/assent.ts';
import { ACCOUNT_ACCESS, accountAccessRequest, DOMESTIC_VRP, domesticPaymentRequest, domesticVrpRequest } from '../support/consent-api.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { changedTables, databaseFingerprint } from '../support/db-fingerprint.ts';
import { pushAuthorizationRequest } from '../support/tpp.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';

/**
 * Hostile input, case by case: NUL characters, unpaired surrogates and absurd nesting are refused
 * at the edge with a 400 in the protocol's shape, and change nothing (test/http/fuzz.test.ts samples the
 * rest).
 */

describe('hostile input is refused at the edge', () => {
  const assent = useAssent();
  const tpp = useTpp(assent);
  const mtlsTpp = useTpp(assent, { auth: 'tls_client_auth' });
  const api = useConsentApi(assent, mtlsTpp);

  async function unchanged(work: () => Promise<void>) {
    const fingerprint = await databaseFingerprint(assent.db);
    await work();
    assert.deepEqual(changedTables(fingerprint, await databaseFingerprint(assent.db)), []);
  }

  test('PAR refuses authorization_details with a NUL inside the signed request object (400, not 201 then a 500 after the code)', async () => {
    const details = [
      { type: 'payment_initiation', ...domesticPaymentRequest({ RemittanceInformation: { Reference: 'rent\u0000' } }).Data, Risk: {} },
    ];
    await unchanged(() =>
      assert.rejects(
        pushAuthorizationRequest(tpp, { scope: 'openid payments', authorization_details: JSON.stringify(details) }),
        (error: oidc.ResponseBodyError) => {
          assert.equal(error.status, 400);
          assert.equal(error.error, 'invalid_request');
          assert.match(error.error_description ?? '', /NUL/);
          return true;
        },
      ),
    );
  });

  test('the consent API refuses NUL and unpaired surrogates in fields, Risk keys and values, and deep Risk, with the UK OB envelope', async () => {
    const bodies = [
      accountAccessRequest({ Permissions: ['ReadAccountsBasic\u0000'] }),
      { ...accountAccessRequest(), Risk: { ['merchant\u0000']: 'x' } },
      { ...accountAccessRequest(), Risk: { merchant: 'caf\ud800' } },
      { ...accountAccessRequest(), Risk: { ['\udfff']: 'x' } },
    ];
    await unchanged(async () => {
      for (const body of bodies) {
        const refused = await api.call('POST', ACCOUNT_ACCESS, { body });
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        assert.equal((refused.body as { Errors: { ErrorCode: string }[] }).Errors[0]!.ErrorCode, 'UK.OBIE.Field.Invalid');
      }
      const deep = `{"Data":${JSON.stringify(accountAccessRequest().Data)},"Risk":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
      const refused = await api.call('POST', ACCOUNT_ACCESS, { body: deep });
      assert.equal(refused.status, 400);
      assert.match((refused.body as { Message: string }).Message, /nested deeper/);
    });
  });

  test('code, refresh_token, token and client_id at /auth with a NUL get OAuth errors; the login username a page', async () => {
    const agent = mtlsTpp.agent;
    const post = (path: string, form: Record<string, string>) =>
      fetch(new URL(path, assent.issuer), {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
    await unchanged(async () => {
      for (const [path, form] of [
        [
          '/token',
          {
            client_id: mtlsTpp.clientId,
            grant_type: 'authorization_code',
            code: 'abc\u0000',
            redirect_uri: mtlsTpp.redirectUri,
            code_verifier: 'v'.repeat(43),
          },
        ],
        ['/token', { client_id: mtlsTpp.clientId, grant_type: 'refresh_token', refresh_token: '\u0000' }],
        ['/token/introspection', { client_id: mtlsTpp.clientId, token: 'a\u0000' }],
        ['/token/revocation', { client_id: mtlsTpp.clientId, token: 'a\u0000' }],
      ] as const) {
        const response = await post(path, form);
        assert.equal(response.status, 400, path);
        assert.equal(((await response.json()) as { error: string }).error, 'invalid_request');
      }
      const auth = await fetch(new URL(`/auth?client_id=${encodeURIComponent('tpp\u0000')}&response_type=code`, assent.issuer), {
        dispatcher: tlsAgent(assent.ca.certPem),
      });
      assert.equal(auth.status, 400);
      assert.match(auth.headers.get('content-type') ?? '', /text\/html/);
    });

    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const login = await browser.open((await pushAuthorizationRequest(tpp)).url);
    await unchanged(async () => {
      const refused = await browser.submit(login, 'login', { username: 'demo\u0000', password: 'x' });
      assert.equal(refused.status, 400);
      assert.match(refused.body, /<link rel="stylesheet"/);
    });
  });

  test('a body over 64 KiB on a customer route gets the 413 page and a closed connection, not a 500 on a destroyed socket', async () => {
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const login = CustomerAgent.form(await browser.open((await pushAuthorizationRequest(tpp)).url), 'login', {
      username: 'x'.repeat(1_000_000),
      password: 'x',
    });
    const agent = tlsAgent(assent.ca.certPem);
    await unchanged(async () => {
      for (const [url, form] of [
        [login.url, login.fields],
        [new URL(`${DASHBOARD_PREFIX}/consents/c1/revoke`, assent.issuer), { csrf_token: 'x', note: 'x'.repeat(100_000) }],
        [new URL(`${DECOUPLED_PATHS.page}/r1/approve`, assent.issuer), { csrf_token: 'x', account_ids: 'x'.repeat(100_000) }],
      ] as const) {
        const refused = await request(url, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(form).toString(),
        });
        const body = await refused.body.text();
        assert.equal(refused.statusCode, 413, url.pathname);
        assert.match(body, /<link rel="stylesheet"/, 'the styled error page');
        // The rest of the body was never read: the connection ends with this answer instead of being kept for a next request.
        assert.equal(refused.headers.connection, 'close');
      }
    });
  });

  test('a callback or event-subscription URL that is not a URL is a 400 naming the field, not a 500', async () => {
    await unchanged(async () => {
      for (const url of ['tpp.example', 'https://tpp .example/', 'https://']) {
        for (const [path, body] of [
          [EVENT_API_PATHS.callbackUrls, { Data: { Url: url, Version: '3.1' } }],
          [EVENT_API_PATHS.eventSubscriptions, { Data: { CallbackUrl: url, Version: '3.1' } }],
        ] as const) {
          const refused = await api.call('POST', `${OB_API_PREFIX}${path}`, { body });
          assert.equal(refused.status, 400, `${path} ${url}: ${JSON.stringify(refused.body)}`);
          const [problem] = (refused.body as { Errors: { ErrorCode: string; Message: string; Path: string }[] }).Errors;
          assert.equal(problem!.ErrorCode, 'UK.OBIE.Field.Invalid');
          assert.match(problem!.Message, /https URL/);
        }
      }
    });
  });

  test('dates no consent means (year 0000, a six-digit year) are refused as dates, not stored', async () => {
    await unchanged(async () => {
      for (const [path, body, field] of [
        [DOMESTIC_VRP, domesticVrpRequest({ ValidFromDateTime: '0000-01-01T00:00:00Z' }), 'Data.ControlParameters.ValidFromDateTime'],
        [ACCOUNT_ACCESS, accountAccessRequest({ TransactionFromDateTime: '0000-01-01T00:00:00Z' }), 'Data.TransactionFromDateTime'],
        [ACCOUNT_ACCESS, accountAccessRequest({ ExpirationDateTime: '+275760-09-13T00:00:00Z' }), 'Data.ExpirationDateTime'],
      ] as const) {
        const refused = await api.call('POST', path, { body, headers: { 'x-idempotency-key': randomUUID() } });
        assert.equal(refused.status, 400, `${field}: ${JSON.stringify(refused.body)}`);
        const [problem] = (refused.body as { Errors: { ErrorCode: string; Path: string }[] }).Errors;
        assert.deepEqual([problem!.ErrorCode, problem!.Path], ['UK.OBIE.Field.InvalidDate', field]);
      }
    });
  });
});

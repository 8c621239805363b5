import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { openApiDocument } from '../../src/openapi/document.ts';
import { tlsAgent } from '../support/assent.ts';
import {
  ACCOUNT_ACCESS,
  ACCOUNT_ACCESS_V4,
  accountAccessRequest,
  type ApiResponse,
  ConsentApiClient,
  DOMESTIC_PAYMENT,
  DOMESTIC_VRP,
  DOMESTIC_VRP_V4,
  domesticPaymentRequest,
  domesticVrpRequest,
  domesticVrpRequestV4,
  FUNDS_CONFIRMATION,
  FUNDS_CONFIRMATION_V4,
  fundsConfirmationRequest,
} from '../support/consent-api.ts';
import { callRegistration, dpopClientMetadata, issueSsa } from '../support/onboarding.ts';
import { TestResourceServer } from '../support/resource-server.ts';
import { createTestTpp, pushAuthorizationRequest } from '../support/tpp.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';

/** A registration answer (callRegistration reads JSON only) as an ApiResponse. */
const json = (response: { status: number; body: unknown }): ApiResponse => ({
  ...response,
  headers: new Headers({ 'content-type': 'application/json' }),
});

interface OpenApi {
  openapi: string;
  servers: { url: string }[];
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { content: Record<string, { schema: { $ref: string } }> };
        responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
      }
    >
  >;
  components: { schemas: Record<string, unknown> };
}

describe('the OpenAPI document at /openapi.json is the generated one and describes the real answers', () => {
  let document: OpenApi;
  let ajv: Ajv2020;

  const assent = useAssent();
  const api = useConsentApi(assent, useTpp(assent));
  before(async () => {
    const response = await fetch(new URL('/openapi.json', assent.issuer), { dispatcher: tlsAgent(assent.ca.certPem) });
    assert.equal(response.status, 200);
    document = (await response.json()) as OpenApi;
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ $id: 'openapi', components: document.components });
  });

  /** Validates a real response against the schema the document declares for that path, method and status. */
  function assertDescribed(path: string, method: string, response: ApiResponse) {
    const operation = document.paths[path]?.[method];
    assert.ok(operation, `the document describes ${method.toUpperCase()} ${path}`);
    const declared = operation.responses[String(response.status)];
    assert.ok(declared, `${method.toUpperCase()} ${path} declares status ${response.status}`);
    const mediaType = response.headers.get('content-type')?.split(';')[0]?.trim() ?? 'application/json';
    const schema = declared.content?.[mediaType]?.schema;
    if (response.body === undefined) {
      assert.equal(schema, undefined);
      return;
    }
    assert.ok(schema, `${method.toUpperCase()} ${path} ${response.status} declares a ${mediaType} body`);
    // A component by reference (the public APIs), or inline (the admin operations' results).
    const validate = schema.$ref ? ajv.getSchema(`openapi${schema.$ref}`) : ajv.compile(schema);
    assert.ok(validate, `schema ${schema.$ref} resolves`);
    assert.ok(
      validate(response.body),
      `${method.toUpperCase()} ${path} ${response.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(response.body)}`,
    );
  }

  test('the served document is the one generated from the route table, on this issuer', () => {
    assert.deepEqual(document, JSON.parse(JSON.stringify(openApiDocument(assent.issuer))));
    assert.equal(document.openapi, '3.1.0');
    assert.equal(document.servers[0]?.url, assent.issuer);
    assert.deepEqual(
      Object.keys(document.paths)
        .filter((path) => path.startsWith('/open-banking/v3.1/') && path.includes('consents'))
        .toSorted(),
      [
        '/open-banking/v3.1/aisp/account-access-consents',
        '/open-banking/v3.1/aisp/account-access-consents/{consentId}',
        '/open-banking/v3.1/cbpii/funds-confirmation-consents',
        '/open-banking/v3.1/cbpii/funds-confirmation-consents/{consentId}',
        '/open-banking/v3.1/pisp/domestic-payment-consents',
        '/open-banking/v3.1/pisp/domestic-payment-consents/{consentId}',
        '/open-banking/v3.1/vrp/domestic-vrp-consents',
        '/open-banking/v3.1/vrp/domestic-vrp-consents/{consentId}',
        '/open-banking/v3.1/vrp/domestic-vrp-consents/{consentId}/funds-confirmation',
      ],
    );
  });

  const resources: [string, string, () => unknown, boolean, boolean][] = [
    [ACCOUNT_ACCESS, '/open-banking/v3.1/aisp/account-access-consents', accountAccessRequest, false, true],
    [DOMESTIC_PAYMENT, '/open-banking/v3.1/pisp/domestic-payment-consents', domesticPaymentRequest, true, false],
    [FUNDS_CONFIRMATION, '/open-banking/v3.1/cbpii/funds-confirmation-consents', fundsConfirmationRequest, false, true],
    [DOMESTIC_VRP, '/open-banking/v3.1/vrp/domestic-vrp-consents', domesticVrpRequest, true, true],
    // UK OB v4.0 (docs/uk-ob-v4.md): its own schemas, envelope, and a 401 without a body.
    [ACCOUNT_ACCESS_V4, '/open-banking/v4.0/aisp/account-access-consents', accountAccessRequest, false, true],
    [FUNDS_CONFIRMATION_V4, '/open-banking/v4.0/cbpii/funds-confirmation-consents', fundsConfirmationRequest, false, true],
    [DOMESTIC_VRP_V4, '/open-banking/v4.0/pisp/domestic-vrp-consents', domesticVrpRequestV4, true, true],
  ];
  for (const [url, path, example, needsKey, deletable] of resources) {
    const withKey = (): Record<string, string> => (needsKey ? { 'x-idempotency-key': crypto.randomUUID() } : {});
    test(`${path}: created, read, refused, not found and deleted responses match the document`, async () => {
      const requestSchema = ajv.getSchema(`openapi${document.paths[path]!.post!.requestBody!.content['application/json']!.schema.$ref}`)!;
      assert.ok(
        requestSchema(example()),
        `the example request matches the documented request schema: ${ajv.errorsText(requestSchema.errors)}`,
      );

      const created = await api.call('POST', url, { body: example(), headers: withKey() });
      assert.equal(created.status, 201);
      assertDescribed(path, 'post', created);
      const id = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
      assertDescribed(`${path}/{consentId}`, 'get', await api.call('GET', `${url}/${id}`));
      assertDescribed(path, 'post', await api.call('POST', url, { body: { Data: {} }, headers: withKey() }));
      assertDescribed(`${path}/{consentId}`, 'get', await api.call('GET', `${url}/${crypto.randomUUID()}`));
      assertDescribed(path, 'post', await api.raw('POST', url, {}));
      const deleted = await api.call('DELETE', `${url}/${id}`);
      assert.equal(deleted.status, deletable ? 204 : 405);
      assertDescribed(`${path}/{consentId}`, 'delete', deleted);
    });
  }
  test("the provider's, the event API's, Grant Management's and health answers match the document", async () => {
    const agent = tlsAgent(assent.ca.certPem);
    const get = async (path: string): Promise<ApiResponse> => {
      const response = await fetch(new URL(path, assent.issuer), { dispatcher: agent });
      return { status: response.status, headers: response.headers as unknown as Headers, body: await response.json() };
    };
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/jwks', '/healthz', '/readyz'])
      assertDescribed(path, 'get', await get(path));

    // The bodies as the provider sent them (openid-client normalises what it parses), read through its fetch hook.
    const { tpp } = api;
    const sent: ApiResponse[] = [];
    const original = tpp.config[oidc.customFetch]!;
    tpp.config[oidc.customFetch] = async (url, options) => {
      const response = await original(url, options);
      const text = await response.clone().text();
      sent.push({ status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined });
      return response;
    };
    try {
      const tokens = await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: api.dpop });
      assert.equal((await oidc.tokenIntrospection(tpp.config, tokens.access_token)).active, true);
      await oidc.tokenRevocation(tpp.config, tokens.access_token);
      await pushAuthorizationRequest(tpp);
    } finally {
      tpp.config[oidc.customFetch] = original;
    }
    assertDescribed('/token', 'post', sent[0]!);
    assertDescribed('/token/introspection', 'post', sent[1]!);
    assertDescribed('/token/revocation', 'post', sent[2]!);
    assertDescribed('/request', 'post', sent[3]!);

    const events = '/open-banking/v3.1';
    assertDescribed(`${events}/events`, 'post', await api.call('POST', `${events}/events`, { body: { returnImmediately: true } }));
    assertDescribed(`${events}/events`, 'post', await api.call('POST', `${events}/events`, { body: { maxEvents: 'many' } }));
    assertDescribed(`${events}/event-subscriptions`, 'get', await api.call('GET', `${events}/event-subscriptions`));
    const subscribed = await api.call('POST', `${events}/event-subscriptions`, {
      body: { Data: { Version: '3.1', EventTypes: ['urn:uk:org:openbanking:events:consent-authorization-revoked'] } },
    });
    assert.equal(subscribed.status, 201);
    assertDescribed(`${events}/event-subscriptions`, 'post', subscribed);
    assertDescribed(`${events}/callback-urls`, 'get', await api.call('GET', `${events}/callback-urls`));

    const grants = await ConsentApiClient.create(
      assent,
      await createTestTpp(assent, { metadata: { scope: 'accounts grant_management_query' } }),
      'grant_management_query',
    );
    assertDescribed('/grants/{grantId}', 'get', await grants.call('GET', '/grants/no-such-grant'));
    assertDescribed('/grants/{grantId}', 'get', await api.call('GET', '/grants/no-such-grant'));
  });
  test("registration's and the bank API's answers match the document", async () => {
    const kit = await issueSsa(assent);
    const registered = await callRegistration(assent, kit.agent, { json: dpopClientMetadata(kit) });
    assert.equal(registered.status, 201);
    assertDescribed('/register', 'post', json(registered));
    assertDescribed(
      '/register',
      'post',
      json(await callRegistration(assent, kit.agent, { json: { redirect_uris: ['https://acme.example/callback'] } })),
    );
    const { client_id: clientId, registration_access_token: token } = registered.body as {
      client_id: string;
      registration_access_token: string;
    };
    assertDescribed(
      '/register/{clientId}',
      'get',
      json(await callRegistration(assent, kit.agent, { method: 'GET', path: `/register/${clientId}`, token })),
    );

    const bank = await TestResourceServer.create(assent);
    for (const [url, example] of [
      [ACCOUNT_ACCESS, accountAccessRequest],
      [DOMESTIC_PAYMENT, domesticPaymentRequest],
      [DOMESTIC_VRP, domesticVrpRequest],
    ] as const) {
      const created = await api.call('POST', url, { body: example(), headers: { 'x-idempotency-key': crypto.randomUUID() } });
      const id = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
      assertDescribed('/bank/consents/{consentId}', 'get', await bank.call('GET', `/bank/consents/${id}`));
      if (url === DOMESTIC_PAYMENT)
        assertDescribed(
          '/bank/payment-consents/{consentId}/consume',
          'post',
          await bank.call('POST', `/bank/payment-consents/${id}/consume`),
        );
      if (url === DOMESTIC_VRP) {
        const payment = await bank.call('POST', `/bank/vrp-consents/${id}/payments`, {
          body: { Data: { InstructedAmount: { Amount: '1.00', Currency: 'GBP' } } },
          headers: { 'x-idempotency-key': crypto.randomUUID() },
        });
        assert.equal(payment.status, 400, 'not Authorised yet');
        assertDescribed('/bank/vrp-consents/{consentId}/payments', 'post', payment);
      }
    }
    assertDescribed('/bank/consents/{consentId}', 'get', await bank.call('GET', `/bank/consents/${crypto.randomUUID()}`));
    assertDescribed('/bank/consents/{consentId}', 'get', await api.call('GET', `/bank/consents/${crypto.randomUUID()}`));
  });
  test("the incident commands' answers match the admin API's part of the document", async () => {
    const token = (await readFile(join(assent.dataDir, 'admin-token'), 'utf8')).trim();
    const agent = tlsAgent(assent.ca.certPem);
    const admin = async (route: string, body: unknown): Promise<ApiResponse> => {
      const response = await fetch(`${assent.adminUrl}${route}`, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, headers: response.headers as unknown as Headers, body: await response.json() };
    };
    const described = async (template: string, values: Record<string, string>, body: unknown) => {
      const answer = await admin(
        template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name]!)),
        body,
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assertDescribed(template, 'post', answer);
      return answer.body as Record<string, unknown>;
    };
    const reason = 'openapi test';
    const victim = await createTestTpp(assent);
    const clientId = { clientId: victim.clientId };
    await described('/admin/v1/tpps/{clientId}/throttle', clientId, { limit: 10, reason });
    await described('/admin/v1/tpps/{clientId}/unthrottle', clientId, {});
    await described('/admin/v1/tpps/{clientId}/blocked-credentials', clientId, { kid: victim.kid, reason });
    await described('/admin/v1/tpps/{clientId}/blocked-credentials/removal', clientId, { kid: victim.kid, reason });
    const window = { from: '2001-01-01T00:00:00Z', to: '2001-01-02T00:00:00Z', reason };
    assert.equal((await described('/admin/v1/tokens/revocation', {}, { ...window, dryRun: true })).dryRun, true);
    assert.equal(typeof (await described('/admin/v1/tokens/revocation', {}, window)).incidentId, 'string');
    const customer = await admin('/admin/v1/customers', { username: 'openapi-victim', name: 'Victim' });
    assert.equal(customer.status, 200, JSON.stringify(customer.body));
    await described('/admin/v1/customers/{customer}/lockdown', { customer: 'openapi-victim' }, { reason });
    // Last: the server's signing keys change.
    const withdrawn = await described('/admin/v1/keys/withdrawal', {}, { reason });
    assert.ok((withdrawn.created as unknown[]).length > 0);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { fetch } from 'undici';
import { type TestAssent, startTestAssent, tlsAgent } from './support/assent.ts';
import {
  ACCOUNT_ACCESS,
  accountAccessRequest,
  type ApiResponse,
  ConsentApiClient,
  DOMESTIC_PAYMENT,
  DOMESTIC_VRP,
  domesticPaymentRequest,
  domesticVrpRequest,
  FUNDS_CONFIRMATION,
  fundsConfirmationRequest,
} from './support/consent-api.ts';
import { createTestTpp } from './support/tpp.ts';

interface OpenApi {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref: string } }> }; responses: Record<string, { content?: Record<string, { schema: { $ref: string } }> }> }>>;
  components: { schemas: Record<string, unknown> };
}

describe('the OpenAPI document at /openapi.json describes the real responses', () => {
  let assent: TestAssent;
  let api: ConsentApiClient;
  let document: OpenApi;
  let ajv: Ajv2020;

  before(async () => {
    assent = await startTestAssent();
    api = await ConsentApiClient.create(assent, await createTestTpp(assent));
    const response = await fetch(new URL('/openapi.json', assent.issuer), { dispatcher: tlsAgent(assent.ca.certPem) });
    assert.equal(response.status, 200);
    document = (await response.json()) as OpenApi;
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ $id: 'openapi', components: document.components });
  });
  after(async () => { await assent?.stop(); });

  /** Validates a real response against the schema the document declares for that path, method and status. */
  function assertDescribed(path: string, method: string, response: ApiResponse) {
    const operation = document.paths[path]?.[method];
    assert.ok(operation, `the document describes ${method.toUpperCase()} ${path}`);
    const declared = operation.responses[String(response.status)];
    assert.ok(declared, `${method.toUpperCase()} ${path} declares status ${response.status}`);
    const reference = declared.content?.['application/json']?.schema.$ref;
    if (response.body === undefined) {
      assert.equal(reference, undefined);
      return;
    }
    assert.ok(reference, `${method.toUpperCase()} ${path} ${response.status} declares a JSON body`);
    const validate = ajv.getSchema(`openapi${reference}`);
    assert.ok(validate, `schema ${reference} resolves`);
    assert.ok(validate(response.body), `${method.toUpperCase()} ${path} ${response.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(response.body)}`);
  }

  test('it is OpenAPI 3.1 for the consent API on this issuer', () => {
    assert.equal(document.openapi, '3.1.0');
    assert.equal(document.servers[0]?.url, `${assent.issuer}/open-banking/v3.1`);
    assert.deepEqual(Object.keys(document.paths).toSorted(), [
      '/aisp/account-access-consents', '/aisp/account-access-consents/{ConsentId}',
      '/cbpii/funds-confirmation-consents', '/cbpii/funds-confirmation-consents/{ConsentId}',
      '/pisp/domestic-payment-consents', '/pisp/domestic-payment-consents/{ConsentId}',
      '/vrp/domestic-vrp-consents', '/vrp/domestic-vrp-consents/{ConsentId}', '/vrp/domestic-vrp-consents/{ConsentId}/funds-confirmation',
    ]);
  });

  const resources: [string, string, () => unknown, boolean][] = [
    [ACCOUNT_ACCESS, '/aisp/account-access-consents', accountAccessRequest, false],
    [DOMESTIC_PAYMENT, '/pisp/domestic-payment-consents', domesticPaymentRequest, true],
    [FUNDS_CONFIRMATION, '/cbpii/funds-confirmation-consents', fundsConfirmationRequest, false],
    [DOMESTIC_VRP, '/vrp/domestic-vrp-consents', domesticVrpRequest, true],
  ];
  for (const [url, path, example, needsKey] of resources) {
    const withKey = (): Record<string, string> => (needsKey ? { 'x-idempotency-key': crypto.randomUUID() } : {});
    test(`${path}: created, read, refused, not found and deleted responses match the document`, async () => {
      const requestSchema = ajv.getSchema(`openapi${document.paths[path]!.post!.requestBody!.content['application/json']!.schema.$ref}`)!;
      assert.ok(requestSchema(example()), `the example request matches the documented request schema: ${ajv.errorsText(requestSchema.errors)}`);

      const created = await api.call('POST', url, { body: example(), headers: withKey() });
      assert.equal(created.status, 201);
      assertDescribed(path, 'post', created);
      const id = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
      assertDescribed(`${path}/{ConsentId}`, 'get', await api.call('GET', `${url}/${id}`));
      assertDescribed(path, 'post', await api.call('POST', url, { body: { Data: {} }, headers: withKey() }));
      assertDescribed(`${path}/{ConsentId}`, 'get', await api.call('GET', `${url}/${crypto.randomUUID()}`));
      assertDescribed(path, 'post', await api.raw('POST', url, {}));
      if (document.paths[`${path}/{ConsentId}`]!.delete) {
        const deleted = await api.call('DELETE', `${url}/${id}`);
        assert.equal(deleted.status, 204);
        assertDescribed(`${path}/{ConsentId}`, 'delete', deleted);
      }
    });
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { apiInventory } from '../../src/admin/admin-operations.ts';
import { adminOpenApiDocument, openApiDocument, openApiPath } from '../../src/openapi/document.ts';
import { type Caller, type Credential, credentialOf, ROUTES, type Route } from '../../src/protocol/routes.ts';
import { SCOPES } from '../../src/protocol/scopes.ts';

/**
 * The one OpenAPI document is well-formed OpenAPI 3.1 and is the route table's JSON APIs, no more, no
 * less. (That each operation is mounted is test/admin/api-inventory.test.ts; that the served document is
 * this one, and that real answers of every surface match it, test/openapi/openapi-responses.test.ts.)
 */

const ISSUER = 'https://assent.example';
const document = openApiDocument(ISSUER);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface Operation {
  operationId: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: object }[];
  requestBody?: { content: Record<string, { schema?: object }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema?: object }> }>;
  security: Record<string, string[]>[];
  tags: string[];
}

function operationsOf(paths: Record<string, Record<string, unknown>>) {
  return Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([key]) => METHODS.includes(key))
      .map(([method, operation]) => ({ path, method, operation: operation as Operation })),
  );
}
const operations = operationsOf(document.paths);

test('it is an OpenAPI 3.1 document for this issuer', () => {
  assert.equal(document.openapi, '3.1.0');
  assert.equal(typeof document.info.title, 'string');
  assert.equal(typeof document.info.version, 'string');
  assert.deepEqual(document.servers, [{ url: ISSUER }]);
  for (const [path, item] of Object.entries(document.paths)) {
    assert.match(path, /^\//, `${path} is a path`);
    for (const key of Object.keys(item)) assert.ok(METHODS.includes(key) || key === 'servers', `${path}: ${key} is not a path item field`);
  }
});

test('every JSON API of the inventory is one operation at its method and path, and nothing else is', () => {
  const expected = apiInventory()
    .filter((route) => route.operationId !== undefined)
    .map((route) => `${route.method} ${openApiPath(route.path)} ${route.operationId}`);
  const described = operations.map(({ path, method, operation }) => `${method.toUpperCase()} ${path} ${operation.operationId}`);
  assert.deepEqual(described.toSorted(), expected.toSorted());
  assert.ok(described.length >= 60, `${described.length} operations`);
  // The table's JSON APIs include each surface the issue names.
  for (const id of [
    'requestToken',
    'pushAuthorizationRequest',
    'introspectToken',
    'revokeToken',
    'registerClient',
    'deleteClientRegistration',
    'getJwks',
    'getOpenIdConfiguration',
    'getUserInfo',
    'getGrant',
    'CreateAccountAccessConsents',
    'CreateDomesticVRPConsentsConsentIdFundsConfirmation',
    'CreateDomesticVRPConsentsV4',
    'CreateDomesticVRPConsentsConsentIdFundsConfirmationV4',
    'CreateEvents',
    'CreateEventSubscriptions',
    'getBankConsent',
    'decideVrpPayment',
    'customer_create',
    'api_inventory',
    'getReadiness',
  ]) {
    assert.ok(
      described.some((line) => line.endsWith(` ${id}`)),
      `${id} is described`,
    );
  }
  // The customer's pages, redirects and stylesheets are in the inventory but not in the document.
  const pages = ROUTES.filter((route) => route.operationId === undefined);
  assert.ok(pages.some((route) => route.path.startsWith('/interaction/')) && pages.some((route) => route.path.startsWith('/dashboard')));
  for (const route of pages)
    assert.equal(
      document.paths[openApiPath(route.path)]?.[route.method.toLowerCase()],
      undefined,
      `${route.method} ${route.path} is not a JSON API`,
    );
});

test('operationIds are unique', () => {
  const ids = operations.map(({ operation }) => operation.operationId);
  assert.deepEqual(
    ids.filter((id, index) => ids.indexOf(id) !== index),
    [],
  );
  for (const id of ids) assert.match(id, /^[A-Za-z][A-Za-z0-9_]*$/, `${id} is a usable identifier`);
});

test('every security requirement names a defined scheme, with scopes only where the scheme is OAuth and has them', () => {
  const schemes = document.components.securitySchemes as Record<
    string,
    { type: string; flows?: Record<string, { scopes: Record<string, string> }> }
  >;
  const types = new Set(['apiKey', 'http', 'mutualTLS', 'oauth2', 'openIdConnect']);
  for (const [name, scheme] of Object.entries(schemes)) assert.ok(types.has(scheme.type), `${name}: ${scheme.type}`);
  assert.equal(schemes.mutualTLS?.type, 'mutualTLS');
  assert.deepEqual(schemes.dpopProof, { ...schemes.dpopProof, type: 'apiKey', in: 'header', name: 'DPoP' });
  for (const { path, method, operation } of operations) {
    assert.ok(Array.isArray(operation.security), `${method} ${path} states its security`);
    for (const requirement of operation.security) {
      for (const [name, scopes] of Object.entries(requirement)) {
        const scheme = schemes[name];
        assert.ok(scheme, `${method} ${path}: scheme ${name} is defined`);
        if (scheme.type !== 'oauth2') assert.deepEqual(scopes, [], `${method} ${path}: ${name} takes no scopes`);
        const offered = new Set(Object.values(scheme.flows ?? {}).flatMap((flow) => Object.keys(flow.scopes)));
        for (const scope of scopes) assert.ok(offered.has(scope), `${method} ${path}: ${name} offers ${scope}`);
      }
      // A token is never presented alone: it is DPoP- or certificate-bound.
      const schemesHere = Object.keys(requirement);
      if (schemesHere.some((name) => schemes[name]!.type === 'oauth2')) {
        assert.ok(
          schemesHere.includes('dpopProof') !== schemesHere.includes('mutualTLS'),
          `${method} ${path}: ${schemesHere.join(' + ')} is sender-constrained once`,
        );
      }
    }
  }
  for (const scheme of Object.values(schemes)) {
    for (const flow of Object.values(scheme.flows ?? {}))
      for (const scope of Object.keys(flow.scopes))
        assert.ok((SCOPES as readonly string[]).includes(scope), `${scope} is a scope of src/protocol/scopes.ts`);
  }
});

/** Which callers may present each credential: the security of an operation matches who calls it. */
const HOLDERS: Record<Credential['kind'], Caller[]> = {
  none: ['anyone', 'operator'],
  client_authentication: ['client'],
  client_credentials_token: ['tpp', 'resource_server'],
  customer_access_token: ['client', 'tpp'],
  registration_access_token: ['tpp'],
  software_statement: ['tpp'],
  admin_credentials: ['operator'],
  dashboard_session: ['customer'],
  interaction: ['customer'],
  eidas_certificate: ['tpp'],
};

test("each operation's security follows from its route's caller and credential", () => {
  const byId = new Map(apiInventory().map((route) => [route.operationId, route]));
  for (const { path, method, operation } of operations) {
    const route = byId.get(operation.operationId)!;
    const credential = credentialOf(route);
    assert.ok(credential, `${method} ${path} has a credential`);
    assert.ok(
      HOLDERS[credential.kind].includes(route.caller),
      `${method} ${path}: a ${route.caller} does not present a ${credential.kind}`,
    );
    const named = new Set(operation.security.flatMap((requirement) => Object.keys(requirement)));
    const expected: Record<Credential['kind'], string[]> = {
      none: [],
      software_statement: [],
      client_authentication: ['privateKeyJwt', 'mutualTLS'],
      client_credentials_token: [
        route.caller === 'resource_server' ? 'resourceServerClientCredentials' : 'tppClientCredentials',
        'dpopProof',
        'mutualTLS',
      ],
      customer_access_token: ['customerAccessToken', 'dpopProof', 'mutualTLS'],
      registration_access_token: ['registrationAccessToken'],
      admin_credentials: ['adminToken', 'adminCertificate'],
      dashboard_session: ['customerSession'],
      interaction: [],
      eidas_certificate: ['mutualTLS'],
    };
    assert.deepEqual([...named].toSorted(), expected[credential.kind].toSorted(), `${method} ${path}`);
    if ('anyScopeOf' in credential) {
      const scopes = new Set(operation.security.flatMap((requirement) => Object.entries(requirement).flatMap(([, list]) => list)));
      assert.deepEqual([...scopes].toSorted(), [...credential.anyScopeOf].toSorted(), `${method} ${path}: scopes`);
    }
  }
  // The provider's token endpoint: private_key_jwt or tls_client_auth; the consent API: a bound TPP token.
  assert.deepEqual(document.paths['/token']?.post && (document.paths['/token'].post as Operation).security, [
    { privateKeyJwt: [] },
    { mutualTLS: [] },
  ]);
  assert.deepEqual((document.paths['/open-banking/v3.1/aisp/account-access-consents']!.post as Operation).security, [
    { tppClientCredentials: ['accounts'], dpopProof: [] },
    { tppClientCredentials: ['accounts'], mutualTLS: [] },
  ]);
});

/** The value a local `$ref` points at, or undefined. */
function resolve(reference: string): unknown {
  assert.match(reference, /^#\//, `${reference} is local`);
  return reference
    .slice(2)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>(
      (value, token) => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[token] : undefined),
      document,
    );
}

test('every $ref resolves', () => {
  const references: string[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === '$ref') references.push(inner as string);
        else walk(inner);
      }
    }
  };
  walk(document);
  assert.ok(references.length > 50, `${references.length} references`);
  for (const reference of new Set(references)) assert.notEqual(resolve(reference), undefined, `${reference} resolves`);
});

test('parameters, bodies and responses are well-formed, and every schema is valid JSON Schema 2020-12', () => {
  const ajv = new Ajv2020({ strict: false });
  for (const [name, schema] of Object.entries(document.components.schemas))
    assert.ok(ajv.validateSchema(schema), `${name}: ${ajv.errorsText()}`);
  for (const { path, method, operation } of operations) {
    const where = `${method} ${path}`;
    const parameters = operation.parameters ?? [];
    const keys = parameters.map((parameter) => `${parameter.in} ${parameter.name}`);
    assert.deepEqual(
      keys.filter((key, index) => keys.indexOf(key) !== index),
      [],
      `${where}: parameters unique`,
    );
    for (const parameter of parameters) {
      assert.ok(['path', 'query', 'header', 'cookie'].includes(parameter.in), `${where}: ${parameter.in}`);
      assert.ok(parameter.schema && ajv.validateSchema(parameter.schema), `${where}: ${parameter.name}'s schema`);
    }
    const templated = [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
    const inPath = parameters.filter((parameter) => parameter.in === 'path');
    assert.deepEqual(
      inPath.map((parameter) => parameter.name).toSorted(),
      templated.toSorted(),
      `${where}: one path parameter per template segment`,
    );
    assert.ok(
      inPath.every((parameter) => parameter.required === true),
      `${where}: path parameters are required`,
    );
    const responses = Object.entries(operation.responses);
    assert.ok(responses.length > 0, `${where} has responses`);
    for (const [status, response] of responses) {
      assert.match(status, /^([1-5]\d\d|[1-5]XX|default)$/, `${where}: ${status}`);
      assert.equal(typeof response.description, 'string', `${where} ${status} has a description`);
    }
    for (const media of [
      ...Object.values(operation.requestBody?.content ?? {}),
      ...responses.flatMap(([, response]) => Object.values(response.content ?? {})),
    ]) {
      if (media.schema && !('$ref' in media.schema)) assert.ok(ajv.validateSchema(media.schema), `${where}: an inline schema`);
    }
    assert.equal(operation.tags.length, 1);
    assert.ok(
      document.tags.some((tag) => tag.name === operation.tags[0]),
      `${where}: tag ${operation.tags[0]} is declared`,
    );
  }
});

test('a new table row needs only its operationId (and, for a TPP, its credential)', () => {
  const backchannel: Route = {
    method: 'POST',
    path: '/backchannel',
    servedBy: 'engine',
    caller: 'client',
    purpose: 'CIBA backchannel authentication',
    operationId: 'backchannelAuthentication',
  };
  const withIt = openApiDocument(ISSUER, [...apiInventory(), backchannel]);
  const operation = withIt.paths['/backchannel']?.post as Operation & { summary: string };
  assert.equal(operation.operationId, 'backchannelAuthentication');
  assert.equal(operation.summary, backchannel.purpose);
  assert.deepEqual(operation.security, [{ privateKeyJwt: [] }, { mutualTLS: [] }]);
  assert.ok(operation.responses['200']?.content?.['application/json']);
  const undeclared: Route = {
    method: 'GET',
    path: '/tpp-thing',
    servedBy: 'assent',
    caller: 'tpp',
    purpose: 'a TPP route that does not say how the TPP proves itself',
    operationId: 'getTppThing',
  };
  assert.throws(() => openApiDocument(ISSUER, [...apiInventory(), undeclared]), /must declare its credential/);
  assert.throws(
    () =>
      openApiDocument(
        ISSUER,
        apiInventory().filter((route) => route.operationId !== 'requestToken'),
      ),
    /detail for operations not in the route table: requestToken/,
  );
});

test("the admin listener's document is the admin part of the same document", () => {
  const admin = adminOpenApiDocument(document);
  const adminRoutes = apiInventory().filter((route) => route.servedBy === 'admin');
  assert.deepEqual(
    operationsOf(admin.paths)
      .map(({ operation }) => operation.operationId)
      .toSorted(),
    adminRoutes.map((route) => route.operationId).toSorted(),
  );
  for (const { path, method, operation } of operationsOf(admin.paths))
    assert.deepEqual(operation, document.paths[path]![method], `${method} ${path} is the same operation`);
  assert.deepEqual(Object.keys(admin.components.securitySchemes).toSorted(), ['adminCertificate', 'adminToken']);
  assert.deepEqual(Object.keys(admin.components.schemas), ['AdminError']);
  assert.match(String(admin.servers[0]?.url), /\{adminHost\}:\{adminPort\}/);
});

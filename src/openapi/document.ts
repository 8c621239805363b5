import { apiInventory } from '../admin/admin-operations.ts';
import { ADMIN_LISTENER_DEFAULTS } from '../config.ts';
import { credentialOf, type Route } from '../protocol/routes.ts';
import { adminApi } from './admin-api.ts';
import type { ApiPart, JsonObject, OperationDetail } from './api-part.ts';
import { bankApi } from './bank-api.ts';
import { berlinGroupApi } from './berlin-group-api.ts';
import { consentApi } from './consent-api.ts';
import { consentV4Api } from './consent-v4-api.ts';
import { decoupledApi } from './decoupled-api.ts';
import { eventApi } from './event-api.ts';
import { grantApi } from './grant-api.ts';
import { providerApi } from './provider-api.ts';
import { securityRequirements, securitySchemes } from './security.ts';
import { serviceApi } from './service-api.ts';

/**
 * The one OpenAPI 3.1 document of every JSON API Assent serves, generated from the route inventory
 * (src/protocol/routes.ts plus the admin operations): each row with an operationId is one operation at
 * its method and path, secured as its credential says. The parts add request and response detail by
 * operationId; a row no part describes still appears, with its purpose and a JSON response, so a new
 * table entry needs nothing but its operationId.
 */

const PARTS: readonly ApiPart[] = [
  providerApi,
  consentApi,
  consentV4Api,
  berlinGroupApi,
  eventApi,
  grantApi,
  decoupledApi,
  bankApi,
  adminApi,
  serviceApi,
];

/** The admin API answers on its own listener, not on the issuer's. */
const ADMIN_SERVER = {
  url: 'https://{adminHost}:{adminPort}',
  description: 'the admin listener (ADMIN_HOST:ADMIN_PORT; plain http on loopback behind a TLS-terminating proxy)',
  variables: { adminHost: { default: ADMIN_LISTENER_DEFAULTS.host }, adminPort: { default: String(ADMIN_LISTENER_DEFAULTS.port) } },
};

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: JsonObject;
  servers: JsonObject[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonObject>; securitySchemes: Record<string, JsonObject> };
}

/** `/register/:clientId` -> `/register/{clientId}`. */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

const pathParameterNames = (path: string) => [...path.matchAll(/:(\w+)/g)].map((match) => match[1]!);

function fallbackTag(route: Route): string {
  return route.servedBy === 'engine' ? providerApi.tag : route.servedBy === 'admin' ? adminApi.tag : serviceApi.tag;
}

function operationOf(route: Route & { operationId: string }, described: { part: ApiPart; detail: OperationDetail } | undefined) {
  const credential = credentialOf(route);
  if (!credential)
    throw new Error(`${route.method} ${route.path}: a ${route.caller} route must declare its credential in src/protocol/routes.ts`);
  const {
    summary,
    description,
    parameters = [],
    requestBody,
    responses,
    ...extensions
  } = described?.detail ?? {
    responses: { '200': { description: route.purpose, content: { 'application/json': { schema: {} } } } },
  };
  const named = new Set(parameters.map((parameter) => `${String(parameter.in)} ${String(parameter.name)}`));
  const inPath = pathParameterNames(route.path)
    .filter((name) => !named.has(`path ${name}`))
    .map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
  return {
    operationId: route.operationId,
    summary: summary ?? route.purpose,
    ...(description && { description }),
    tags: [described?.part.tag ?? fallbackTag(route)],
    ...(inPath.length + parameters.length > 0 && { parameters: [...inPath, ...parameters] }),
    ...(requestBody && { requestBody }),
    responses,
    security: securityRequirements(route, credential),
    'x-caller': route.caller,
    ...(route.rateLimit && { 'x-rate-limit-policy': route.rateLimit }),
    ...extensions,
  };
}

/** `inventory` is apiInventory() but for tests of how the generator takes a new row. */
export function openApiDocument(issuer: string, inventory: readonly Route[] = apiInventory()): OpenApiDocument {
  const details = new Map<string, { part: ApiPart; detail: OperationDetail }>();
  const schemas: Record<string, JsonObject> = {};
  for (const part of PARTS) {
    for (const [operationId, detail] of Object.entries(part.operations)) details.set(operationId, { part, detail });
    for (const [name, schema] of Object.entries(part.schemas)) {
      if (name in schemas) throw new Error(`two parts of the OpenAPI document name the schema ${name}`);
      schemas[name] = schema;
    }
  }
  const paths: OpenApiDocument['paths'] = {};
  for (const route of inventory) {
    if (route.operationId === undefined) continue;
    const template = openApiPath(route.path);
    paths[template] ??= route.servedBy === 'admin' ? { servers: [ADMIN_SERVER] } : {};
    paths[template][route.method.toLowerCase()] = operationOf({ ...route, operationId: route.operationId }, details.get(route.operationId));
    details.delete(route.operationId);
  }
  // Detail for an operationId the table no longer has would silently vanish from the document.
  if (details.size > 0) throw new Error(`OpenAPI detail for operations not in the route table: ${[...details.keys()].join(', ')}`);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Assent',
      version: '1',
      description:
        "Every JSON API of Assent, the open-banking authorization server: the OpenID Provider (FAPI 2.0), the UK Open Banking v3.1 consent and event APIs, the UK Open Banking v4.0 account-access and funds-confirmation consents, the Berlin Group NextGenPSD2 account information consent, Grant Management, the bank API for resource servers, the operator's admin API and health. Access tokens are always sender-constrained: DPoP (RFC 9449) or mTLS (RFC 8705). The customer's pages (sign-in, consent, dashboard) are HTML and not described here; `admin api:inventory` lists every route.",
    },
    servers: [{ url: issuer }],
    tags: PARTS.map(({ tag, description }) => ({ name: tag, description })),
    paths,
    components: { schemas, securitySchemes: securitySchemes(issuer) },
  };
}

/** Every `$ref` inside a value. */
function refsIn(value: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') found.add(inner);
      else refsIn(inner, found);
    }
  }
  return found;
}

/**
 * The admin API's part of the document, served on the admin listener at /admin/openapi.json: its paths
 * with the admin listener as the server, and only the components they use.
 */
export function adminOpenApiDocument(document: OpenApiDocument): OpenApiDocument {
  const adminPaths = new Set(
    apiInventory()
      .filter((route) => route.servedBy === 'admin')
      .map((route) => openApiPath(route.path)),
  );
  const paths = Object.fromEntries(
    Object.entries(document.paths)
      .filter(([path]) => adminPaths.has(path))
      .map(([path, { servers: _servers, ...operations }]) => [path, operations]),
  );
  const operations = Object.values(paths).flatMap(
    (item) => Object.values(item) as { tags: string[]; security: Record<string, string[]>[] }[],
  );
  const used = new Set<string>();
  for (let pending = [...refsIn(paths, new Set())]; pending.length > 0;) {
    const name = pending.pop()!.replace('#/components/schemas/', '');
    if (used.has(name)) continue;
    used.add(name);
    pending = [...pending, ...refsIn(document.components.schemas[name], new Set())];
  }
  const schemes = new Set(operations.flatMap((operation) => operation.security.flatMap((requirement) => Object.keys(requirement))));
  const tags = new Set(operations.flatMap((operation) => operation.tags));
  return {
    ...document,
    info: { ...document.info, title: 'Assent admin API', description: adminApi.description },
    servers: [ADMIN_SERVER],
    tags: document.tags.filter((tag) => tags.has(tag.name)),
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(document.components.schemas).filter(([name]) => used.has(name))),
      securitySchemes: Object.fromEntries(Object.entries(document.components.securitySchemes).filter(([name]) => schemes.has(name))),
    },
  };
}

import { z } from 'zod';
import type { AdminOperation } from './admin-operation.ts';
import { ADMIN_API_PREFIX, ADMIN_OPERATIONS } from './admin-operations.ts';

/** The admin API's OpenAPI 3.1 document, generated from the operations themselves so it cannot drift. */

const pathParams = (path: string) => [...path.matchAll(/:(\w+)/g)].map((match) => match[1]!);

function inputSchema(operation: AdminOperation) {
  return z.toJSONSchema(operation.input, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
}

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

function describe(operation: AdminOperation) {
  const schema = inputSchema(operation);
  const inPath = pathParams(operation.path);
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const parameters = inPath.map((name) => ({ name, in: 'path', required: true, schema: properties[name] ?? { type: 'string' } }));
  const rest = Object.fromEntries(Object.entries(properties).filter(([name]) => !inPath.includes(name)));
  const restRequired = [...required].filter((name) => !inPath.includes(name));
  const success =
    operation.format === 'jsonl'
      ? { description: 'one JSON object per line', content: { 'application/jsonl': { schema: { type: 'string' } } } }
      : { description: 'the result', content: { 'application/json': { schema: {} } } };
  return {
    operationId: operation.name.replace(':', '_').replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase()),
    summary: operation.summary,
    'x-cli-command': operation.name,
    parameters:
      operation.method === 'GET'
        ? [...parameters, ...Object.entries(rest).map(([name, property]) => ({ name, in: 'query', required: restRequired.includes(name), schema: property }))]
        : parameters,
    ...(operation.method === 'POST' && {
      requestBody: {
        required: restRequired.length > 0,
        content: { 'application/json': { schema: { type: 'object', properties: rest, required: restRequired, additionalProperties: false } } },
      },
    }),
    responses: {
      200: success,
      400: errorResponse('invalid input'),
      401: errorResponse('no admin token or admin client certificate'),
      404: errorResponse('no such customer, TPP, consent or resource server'),
      409: errorResponse('the change conflicts with the current state (taken, already suspended, ...)'),
    },
  };
}

export function adminOpenApi() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of ADMIN_OPERATIONS) {
    const path = `${ADMIN_API_PREFIX}${operation.path.replace(/:(\w+)/g, '{$1}')}`;
    paths[path] = { ...paths[path], [operation.method.toLowerCase()]: describe(operation) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Assent admin API',
      version: '1',
      description:
        'The bank operator API of a running Assent server (the admin CLI is its client). Served over HTTPS on ADMIN_HOST:ADMIN_PORT (loopback by default). Every change is written to the audit trail with the operator.',
    },
    security: [{ adminToken: [] }, { adminCertificate: [] }],
    components: {
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN (dev mode: DATA_DIR/admin-token); name yourself in X-Assent-Operator' },
        adminCertificate: { type: 'mutualTLS', description: 'a client certificate issued by ADMIN_CLIENT_CA_FILE; its CN is the operator' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'error_description'],
          properties: { error: { enum: ['invalid_request', 'unauthorized', 'not_found', 'conflict', 'server_error'] }, error_description: { type: 'string' } },
        },
      },
    },
    paths,
  };
}

import { z } from 'zod';
import type { AdminOperation } from '../admin/admin-operation.ts';
import { ADMIN_OPERATIONS, adminOperationId } from '../admin/admin-operations.ts';
import { type ApiPart, jsonBody, jsonSchema, type OperationDetail } from './api-part.ts';

/** The operator's admin API, from the operations themselves (their zod input) so it cannot drift. */

const pathParams = (path: string) => [...path.matchAll(/:(\w+)/g)].map((match) => match[1]!);

function inputSchema(operation: AdminOperation) {
  return z.toJSONSchema(operation.input, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
}

const errorResponse = (description: string) => ({ description, content: jsonBody('AdminError') });

function describe(operation: AdminOperation): OperationDetail {
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
      : {
          description: 'the result',
          content: { 'application/json': { schema: operation.output ? jsonSchema(operation.output, 'output') : {} } },
        };
  return {
    summary: operation.summary,
    parameters:
      operation.method === 'GET'
        ? [
            ...parameters,
            ...Object.entries(rest).map(([name, property]) => ({
              name,
              in: 'query',
              required: restRequired.includes(name),
              schema: property,
            })),
          ]
        : parameters,
    ...(operation.method === 'POST' && {
      requestBody: {
        required: restRequired.length > 0,
        content: {
          'application/json': { schema: { type: 'object', properties: rest, required: restRequired, additionalProperties: false } },
        },
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

export const adminApi: ApiPart = {
  tag: 'admin API',
  description:
    'The bank operator API of a running Assent server (the admin CLI is its client), on its own listener (ADMIN_HOST:ADMIN_PORT, loopback by default). Every change is written to the audit trail with the operator.',
  schemas: {
    AdminError: {
      type: 'object',
      required: ['error', 'error_description'],
      properties: {
        error: { enum: ['invalid_request', 'unauthorized', 'not_found', 'conflict', 'server_error'] },
        error_description: { type: 'string' },
      },
    },
  },
  operations: Object.fromEntries(
    ADMIN_OPERATIONS.map((operation) => [adminOperationId(operation), { ...describe(operation), 'x-cli-command': operation.name }]),
  ),
};

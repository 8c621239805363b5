import { z } from 'zod';

/**
 * What one surface adds to the OpenAPI document: the request and response detail of its operations
 * (keyed by the route table's operationId) and the schemas they refer to. Routes, methods, paths,
 * operationIds and security come from the route table itself (src/openapi/document.ts).
 */

export type JsonObject = Record<string, unknown>;

export interface OperationDetail {
  /** Defaults to the route's purpose. */
  summary?: string;
  description?: string;
  /** Query and header parameters; path parameters come from the route's `:name` segments unless named here. */
  parameters?: JsonObject[];
  requestBody?: JsonObject;
  responses: Record<string, JsonObject>;
  /** Specification extensions, such as the admin API's `x-cli-command`. */
  [extension: `x-${string}`]: unknown;
}

export interface ApiPart {
  tag: string;
  description: string;
  schemas: Record<string, JsonObject>;
  operations: Record<string, OperationDetail>;
}

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), for the side of the wire it describes. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' });
  return rest;
}

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const jsonBody = (schema: string) => ({ 'application/json': { schema: ref(schema) } });
export const formBody = (schema: string) => ({ 'application/x-www-form-urlencoded': { schema: ref(schema) } });
export const header = (name: string, required: boolean, description: string) => ({
  name,
  in: 'header',
  required,
  description,
  schema: { type: 'string' },
});
export const query = (name: string, required: boolean, description: string, schema: JsonObject = { type: 'string' }) => ({
  name,
  in: 'query',
  required,
  description,
  schema,
});

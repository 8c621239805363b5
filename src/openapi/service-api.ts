import { z } from 'zod';
import { type ApiPart, jsonBody, jsonSchema } from './api-part.ts';

/** The service's own JSON: liveness, readiness and this document. */

const liveness = z.object({ status: z.literal('ok') });
const readiness = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.object({ database: z.boolean(), migrations: z.boolean(), keys: z.boolean(), accepting: z.boolean() }),
});
const document = {
  description: 'an OpenAPI 3.1 document',
  content: { 'application/json': { schema: { type: 'object', required: ['openapi', 'paths'] } } },
};

export const serviceApi: ApiPart = {
  tag: 'service',
  description: 'Health for load balancers and orchestrators (on OPS_PORT when set, else the main port), and the API description',
  schemas: { Liveness: jsonSchema(liveness, 'output'), Readiness: jsonSchema(readiness, 'output') },
  operations: {
    getLiveness: { responses: { '200': { description: 'the process serves', content: jsonBody('Liveness') } } },
    getReadiness: {
      responses: {
        '200': { description: 'ready for traffic', content: jsonBody('Readiness') },
        '503': {
          description: 'not ready: the database, migrations or keys are missing, or the process is draining',
          content: jsonBody('Readiness'),
        },
      },
    },
    getOpenApiDocument: { summary: 'This document: every JSON API of Assent', responses: { '200': document } },
    getAdminOpenApiDocument: {
      summary: "The admin API's part of this document, served on the admin listener",
      responses: { '200': document },
    },
  },
};

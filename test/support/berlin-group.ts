import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { type Agent, fetch } from 'undici';
import { issueCertificate } from '../../src/http/dev-pki.ts';
import { openApiDocument } from '../../src/openapi/document.ts';
import type { Psd2Role } from '../../src/protocol/routes.ts';
import { type TestAssent, tlsAgent } from './assent.ts';

/** A TLS client presenting a QWAC-shaped certificate of the dev CA: a Berlin Group TPP known by it alone. */
export async function qwacAgent(assent: TestAssent, organizationId: string, roles: Psd2Role[], name = 'Kontoblick GmbH'): Promise<Agent> {
  return tlsAgent(
    assent.ca.certPem,
    await issueCertificate(assent.ca, {
      subject: `CN=${organizationId},organizationIdentifier=${organizationId},O=${name},C=DE`,
      usage: 'client',
      psd2: { roles: roles as ('PSP_AI' | 'PSP_PI')[], ncaName: 'BaFin', ncaId: 'DE-BAFIN' },
    }),
  );
}

export interface BgCallOptions {
  headers?: Record<string, string>;
  /** Sent as it is when text, as JSON otherwise. */
  body?: unknown;
  /** The X-Request-ID to send: a fresh UUID unless given; null sends none. */
  requestId?: string | null;
}

/** One Berlin Group request as a TPP sends it (X-Request-ID and all), its answer parsed as `Answer`. */
export function bgCaller<Answer>(base: () => string) {
  return async (agent: Agent, method: string, path: string, options: BgCallOptions = {}) => {
    const requestId = options.requestId === undefined ? randomUUID() : options.requestId;
    const body = options.body === undefined || typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const response = await fetch(`${base()}${path}`, {
      method,
      dispatcher: agent,
      headers: {
        ...(requestId !== null && { 'X-Request-ID': requestId }),
        ...(body !== undefined && { 'Content-Type': 'application/json' }),
        ...options.headers,
      },
      body,
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Answer) : undefined, requestId };
  };
}

/** A real answer checked against the OpenAPI document's schema for its operation and status. */
export function assertDescribed(issuer: string, method: string, template: string, answer: { status: number; body?: unknown }): void {
  const document = openApiDocument(issuer) as unknown as {
    components: object;
    paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref: string } }> }> }>>;
  };
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: 'openapi', components: document.components });
  const declared = document.paths[template]?.[method]?.responses[String(answer.status)];
  assert.ok(declared, `${method} ${template} declares ${answer.status}`);
  const schema = declared.content?.['application/json']?.schema;
  if (answer.body === undefined) return assert.equal(schema, undefined);
  const validate = ajv.getSchema(`openapi${schema!.$ref}`)!;
  assert.ok(validate(answer.body), `${method} ${template} ${answer.status}: ${ajv.errorsText(validate.errors)}`);
}

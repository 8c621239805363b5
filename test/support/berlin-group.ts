import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import * as oidc from 'openid-client';
import { type Agent, fetch } from 'undici';
import { issueCertificate, type PemPair } from '../../src/http/dev-pki.ts';
import { openApiDocument } from '../../src/openapi/document.ts';
import type { Psd2Role } from '../../src/protocol/routes.ts';
import { type TestAssent, tlsAgent } from './assent.ts';
import { fetchVia } from './tpp.ts';

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

/** An EU TPP known by its QWAC alone, with openid-client as its OAuth client (tls_client_auth by the QWAC). */
export interface EidasTppClient {
  organizationId: string;
  agent: Agent;
  config: oidc.Configuration;
}

/** openid-client as the TPP, authenticating with `certificate` (its QWAC) on every call. */
export async function eidasTppClient(
  assent: Pick<TestAssent, 'issuer' | 'ca'>,
  organizationId: string,
  certificate: PemPair,
): Promise<EidasTppClient> {
  const agent = tlsAgent(assent.ca.certPem, certificate);
  const config = await oidc.discovery(new URL(assent.issuer), organizationId, undefined, oidc.TlsClientAuth(), {
    [oidc.customFetch]: fetchVia(agent),
  });
  config[oidc.customFetch] = fetchVia(agent);
  return { organizationId, agent, config };
}

/** The OAuth2 SCA approach's PAR: plain parameters (FAPI 2.0 allows them), PKCE S256, the QWAC as client authentication. */
export async function pushBgAuthorization(
  tpp: EidasTppClient,
  redirectUri: string,
  parameters: Record<string, string>,
): Promise<{ url: URL; codeVerifier: string; state: string }> {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = await oidc.buildAuthorizationUrlWithPAR(tpp.config, {
    redirect_uri: redirectUri,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    ...parameters,
  });
  return { url, codeVerifier, state };
}

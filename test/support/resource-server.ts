import { randomUUID, type webcrypto } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { createResourceServer } from '../../src/tpp/resource-servers.ts';
import { type TestAssent, tlsAgent } from './assent.ts';
import { type ApiResponse, callProtectedResource } from './consent-api.ts';
import { fetchVia } from './tpp.ts';
import { ENGINE_PATHS } from '../../src/protocol/routes.ts';

/**
 * One of the bank's resource servers: registered with `createResourceServer`, introspecting with
 * private_key_jwt, and calling the bank API with a DPoP-bound `bank` token.
 */
export class TestResourceServer {
  readonly clientId: string;
  readonly config: oidc.Configuration;
  readonly #assent: TestAssent;
  readonly #key: { key: webcrypto.CryptoKey; kid: string };
  readonly #dpop: oidc.DPoPHandle;
  readonly #token: string;

  private constructor(
    assent: TestAssent,
    clientId: string,
    config: oidc.Configuration,
    key: { key: webcrypto.CryptoKey; kid: string },
    dpop: oidc.DPoPHandle,
    token: string,
  ) {
    this.#assent = assent;
    this.clientId = clientId;
    this.config = config;
    this.#key = key;
    this.#dpop = dpop;
    this.#token = token;
  }

  static async create(assent: TestAssent, name = 'Payments API') {
    const { privateKey, publicKey } = await generateKeyPair('PS256');
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const { clientId } = await createResourceServer(assent.db, {
      name,
      auth: { method: 'private_key_jwt', jwks: { keys: [{ ...publicJwk, kid, alg: 'PS256', use: 'sig' }] } },
      operator: 'test',
    });
    const agent = tlsAgent(assent.ca.certPem);
    const key = { key: privateKey, kid };
    const config = await oidc.discovery(new URL(assent.issuer), clientId, undefined, oidc.PrivateKeyJwt(key), {
      [oidc.customFetch]: fetchVia(agent),
    });
    config[oidc.customFetch] = fetchVia(agent);
    const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const { access_token } = await oidc.clientCredentialsGrant(config, { scope: 'bank' }, { DPoP: dpop });
    return new TestResourceServer(assent, clientId, config, key, dpop, access_token);
  }

  introspect(token: string) {
    return oidc.tokenIntrospection(this.config, token);
  }

  /** Introspection answered as a signed JWT (application/token-introspection+jwt); the raw JWT. */
  async introspectAsJwt(token: string): Promise<{ contentType: string; jwt: string }> {
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'PS256', kid: this.#key.kid })
      .setIssuer(this.clientId)
      .setSubject(this.clientId)
      .setAudience(this.#assent.issuer)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(this.#key.key);
    const response = await fetch(`${this.#assent.issuer}${ENGINE_PATHS.introspection}`, {
      method: 'POST',
      dispatcher: tlsAgent(this.#assent.ca.certPem),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/token-introspection+jwt' },
      body: new URLSearchParams({
        token,
        client_id: this.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }).toString(),
    });
    return { contentType: response.headers.get('content-type') ?? '', jwt: await response.text() };
  }

  /** A bank API call with the resource server's token and a fresh DPoP proof; a body is sent as JSON (a string as it is). */
  async call(method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiResponse> {
    const headers = new Headers(options.headers);
    if (options.body !== undefined) headers.set('content-type', 'application/json');
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    return callProtectedResource(this.config, this.#token, new URL(path, this.#assent.issuer), method, { body, headers, dpop: this.#dpop });
  }
}

import { connect } from 'node:tls';
import {
  constants,
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomUUID,
  sign,
  X509Certificate,
} from 'node:crypto';
import { createLocalJWKSet, exportJWK, type JSONWebKeySet, type JWK, jwtVerify, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import { type Agent, fetch } from 'undici';
import { INTENT_CLAIM } from '../../src/protocol/consent-types.ts';
import { DISCOVERY_PATH, ENGINE_PATHS } from '../../src/protocol/routes.ts';
import { type TestAssent, tlsAgent } from './assent.ts';
import type { MovableClock } from './clock.ts';
import { ACCOUNT_ACCESS, accountAccessRequest, ConsentApiClient } from './consent-api.ts';
import { CustomerAgent, type Page } from './customer-agent.ts';
import { customerWithAccounts } from './granted-consents.ts';
import { createTestTpp, type TestTpp } from './tpp.ts';
import { variantLabel } from './conformance.ts';

/**
 * The conformance suite's FAPI 2.0 authorization-server tests, played against a running Assent: its two
 * clients, its variants (test/conformance/plans/), and every request a module sends built here by hand, so
 * a module can bend any part of it (a request object's claims, a DPoP proof's header, a client assertion's
 * audience) the way the suite's conditions do. Nothing is hidden behind a client library: what is sent is
 * what the module names. DPoP server nonces (DPOP_NONCES) are followed the way the suite does: one retry
 * with the nonce of a `use_dpop_nonce` answer.
 */

/** A variant of the two FAPI 2.0 plans, in the suite's parameter names and values. */
export type Fapi2Variant = {
  readonly client_auth_type: 'private_key_jwt' | 'mtls';
  readonly sender_constrain: 'dpop' | 'mtls';
  readonly fapi_request_method: 'unsigned' | 'signed_non_repudiation';
  readonly fapi_response_mode: 'plain_response' | 'jarm';
  readonly authorization_request_type: 'simple' | 'rar';
  readonly fapi_profile: 'openbanking_uk';
  readonly openid: 'openid_connect';
};

export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** The JSON body, or the text when it is not JSON. */
  body: Record<string, unknown>;
  text: string;
}

/** A DPoP key pair (ES256), as the suite's `client.dpop_private_jwk`. */
export interface DpopKey {
  privateKey: KeyObject;
  publicJwk: JWK;
  thumbprint: string;
}

/** What a module may bend in a JWT before it is signed: header, claims, the key and the signature itself. */
export interface JwtEdit {
  header?: (header: Record<string, unknown>) => void;
  claims?: (claims: Record<string, unknown>) => void;
  /** Signs with this key instead (and, for alg none, not at all). */
  key?: KeyObject;
  /** Replaces the finished JWT (a broken signature, a malformed token). */
  after?: (jwt: string) => string;
}

/** One client of the suite (`client` and `client2`): the TPP and its signing key as a KeyObject. */
export interface Fapi2Client {
  tpp: TestTpp;
  key: KeyObject;
}

/**
 * How long a consent API token is used before a new one is fetched: well inside ACCESS_TOKEN_TTL's default
 * (300 s) even when the clock has been moved on for a module that waits out a lifetime.
 */
const CONSENT_API_TOKEN_USE_MS = 60_000;

/** An authorization request as sent: its parameters and the secrets the client keeps for the code. */
export interface AuthorizationRequest {
  client: Fapi2Client;
  parameters: Record<string, unknown>;
  codeVerifier: string;
  consentId: string;
  /** The DPoP key the request and its code are bound to (dpop variants). */
  dpopKey: DpopKey | undefined;
}

/** A protected resource and the access token (and its DPoP key) presented there. */
export interface ResourceTarget {
  url: string;
  token: string;
  key: DpopKey | undefined;
}

/** What came back on the redirect_uri: the plain query, or the claims of the verified JARM response. */
export interface AuthorizationResponse {
  url: URL;
  params: Record<string, string>;
}

export const base64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const sha256 = (value: string | Buffer) => createHash('sha256').update(value).digest('base64url');

/** Signs `header.claims` with `key` as the header's alg says (PS256, RS256, ES256; none leaves it unsigned). */
function signJwt(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject, edit: JwtEdit = {}): string {
  const protectedHeader = { ...header };
  const payload = { ...claims };
  edit.header?.(protectedHeader);
  edit.claims?.(payload);
  const input = `${base64url(protectedHeader)}.${base64url(payload)}`;
  const signer = edit.key ?? key;
  const alg = protectedHeader.alg ?? header.alg;
  const signature =
    alg === 'none'
      ? Buffer.alloc(0)
      : alg === 'ES256'
        ? sign('sha256', Buffer.from(input), { key: signer, dsaEncoding: 'ieee-p1363' })
        : alg === 'RS256'
          ? sign('sha256', Buffer.from(input), signer)
          : sign('sha256', Buffer.from(input), { key: signer, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  const jwt = `${input}.${signature.toString('base64url')}`;
  return edit.after ? edit.after(jwt) : jwt;
}

export function newDpopKey(): DpopKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' }) as JWK;
  const publicJwk = { kty, crv, x, y } as JWK;
  return { privateKey, publicJwk, thumbprint: sha256(JSON.stringify({ crv, kty, x, y })) };
}

/** A JWT whose signature no longer verifies (its last signature byte changed). */
export const breakSignature = (jwt: string) => {
  const [head, body, signature = ''] = jwt.split('.');
  const bytes = Buffer.from(signature, 'base64url');
  bytes[bytes.length - 1] = bytes.at(-1)! ^ 0xff;
  return `${head}.${body}.${bytes.toString('base64url')}`;
};

export class Fapi2Flow {
  /** The Assent under test; its clock moves for the modules that wait out a lifetime. */
  readonly assent: TestAssent & { clock?: MovableClock };
  readonly variant: Fapi2Variant;
  readonly client: Fapi2Client;
  readonly client2: Fapi2Client;
  readonly discovery: Record<string, unknown>;
  readonly #jwks: ReturnType<typeof createLocalJWKSet>;
  /** The last DPoP-Nonce the server handed out (nonces are the server's, good at every endpoint). */
  #dpopNonce: string | undefined;
  #nonceChallenged = false;
  readonly #customers: Awaited<ReturnType<typeof customerWithAccounts>>[] = [];
  readonly #consentApis = new Map<Fapi2Client, { api: ConsentApiClient; since: number }>();

  private constructor(
    assent: TestAssent & { clock?: MovableClock },
    variant: Fapi2Variant,
    clients: [Fapi2Client, Fapi2Client],
    discovery: Record<string, unknown>,
    jwks: JSONWebKeySet,
  ) {
    this.assent = assent;
    this.variant = variant;
    [this.client, this.client2] = clients;
    this.discovery = discovery;
    this.#jwks = createLocalJWKSet(jwks);
  }

  /** The suite's two clients, registered the way the variant says (authentication, sender constraint, JAR). */
  static async create(assent: TestAssent & { clock?: MovableClock }, variant: Fapi2Variant): Promise<Fapi2Flow> {
    const metadata = {
      dpop_bound_access_tokens: variant.sender_constrain === 'dpop',
      tls_client_certificate_bound_access_tokens: variant.sender_constrain === 'mtls',
      ...(variant.fapi_request_method === 'signed_non_repudiation' && { require_signed_request_object: true }),
    };
    const clients = await Promise.all(
      [0, 1].map(async () => {
        const tpp = await createTestTpp(assent, {
          auth: variant.client_auth_type === 'mtls' ? 'tls_client_auth' : 'private_key_jwt',
          metadata,
        });
        const key = createPrivateKey({ key: (await exportJWK(tpp.privateKey)) as JsonWebKey, format: 'jwk' });
        return { tpp, key };
      }),
    );
    const agent = tlsAgent(assent.ca.certPem);
    const discovery = (await (await fetch(`${assent.issuer}${DISCOVERY_PATH}`, { dispatcher: agent })).json()) as Record<string, unknown>;
    const jwks = (await (await fetch(`${assent.issuer}${ENGINE_PATHS.jwks}`, { dispatcher: agent })).json()) as JSONWebKeySet;
    return new Fapi2Flow(assent, variant, clients as [Fapi2Client, Fapi2Client], discovery, jwks);
  }

  get dpop(): boolean {
    return this.variant.sender_constrain === 'dpop';
  }

  get privateKeyJwt(): boolean {
    return this.variant.client_auth_type === 'private_key_jwt';
  }

  get signed(): boolean {
    return this.variant.fapi_request_method === 'signed_non_repudiation';
  }

  /** Whether the server asked for DPoP nonces (`use_dpop_nonce`), as the suite notices it. */
  get dpopNoncesRequired(): boolean {
    return this.#nonceChallenged;
  }

  get jarm(): boolean {
    return this.variant.fapi_response_mode === 'jarm';
  }

  url(path: string): string {
    return `${this.assent.issuer}${path}`;
  }

  /** An HTTPS request as `agent` (a client's, with its certificate, unless said); DPoP proofs follow a nonce challenge once. */
  async send(
    url: string,
    options: {
      method?: string;
      /** The form, made again for a retry (a client assertion's jti is good once). */
      form?: Record<string, string> | (() => Record<string, string>);
      headers?: Record<string, string>;
      agent?: Agent;
      /** Makes the DPoP header for the nonce the server asks for (undefined before it asked). */
      dpop?: (nonce: string | undefined) => Promise<string | string[]> | string | string[];
    } = {},
  ): Promise<HttpAnswer> {
    for (let attempt = 0; ; attempt += 1) {
      const headers: [string, string][] = Object.entries(options.headers ?? {});
      if (options.form) headers.push(['content-type', 'application/x-www-form-urlencoded']);
      if (options.dpop) for (const proof of [await options.dpop(this.#dpopNonce)].flat()) headers.push(['dpop', proof]);
      const form = typeof options.form === 'function' ? options.form() : options.form;
      const response = await fetch(url, {
        method: options.method ?? (form ? 'POST' : 'GET'),
        headers,
        redirect: 'manual',
        dispatcher: options.agent ?? tlsAgent(this.assent.ca.certPem),
        ...(form && { body: new URLSearchParams(form).toString() }),
      });
      const nonce = response.headers.get('dpop-nonce');
      if (nonce) this.#dpopNonce = nonce;
      const text = await response.text();
      let body: Record<string, unknown> = {};
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        // Not JSON (an HTML error page): the text is in `text`.
      }
      const challenged = body.error === 'use_dpop_nonce' || /use_dpop_nonce/.test(response.headers.get('www-authenticate') ?? '');
      if (challenged) this.#nonceChallenged = true;
      if (options.dpop && challenged && attempt === 0) continue;
      return { status: response.status, headers: response.headers as unknown as Headers, body, text };
    }
  }

  /** A DPoP proof for `htm` `htu` (with `ath` when bound to an access token), bent by `edit`. */
  dpopProof(key: DpopKey, htm: string, htu: string, nonce: string | undefined, accessToken?: string, edit: JwtEdit = {}): string {
    const claims = {
      jti: randomUUID(),
      htm,
      htu,
      iat: now(),
      ...(nonce && { nonce }),
      ...(accessToken && { ath: sha256(accessToken) }),
    };
    return signJwt({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk }, claims, key.privateKey, edit);
  }

  /** The client's private_key_jwt assertion for the issuer (FAPI 2.0: aud is the issuer and nothing else). */
  clientAssertion(client: Fapi2Client, edit: JwtEdit = {}): string {
    const issued = now();
    const claims = {
      iss: client.tpp.clientId,
      sub: client.tpp.clientId,
      aud: this.assent.issuer,
      jti: randomUUID(),
      iat: issued,
      exp: issued + 60,
    };
    return signJwt({ alg: 'PS256', kid: client.tpp.kid }, claims, client.key, edit);
  }

  /** Client authentication form fields: an assertion (private_key_jwt) or only client_id (mTLS, the certificate does it). */
  clientAuthentication(client: Fapi2Client, edit?: JwtEdit | 'none'): Record<string, string> {
    if (!this.privateKeyJwt || edit === 'none') return { client_id: client.tpp.clientId };
    return {
      client_id: client.tpp.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: this.clientAssertion(client, edit),
    };
  }

  /** A UK account-access consent (intent) created on the consent API by `client`. */
  async createConsent(client: Fapi2Client = this.client): Promise<string> {
    let held = this.#consentApis.get(client);
    if (!held || Date.now() - held.since > CONSENT_API_TOKEN_USE_MS) {
      held = { api: await ConsentApiClient.create(this.assent, client.tpp), since: Date.now() };
      this.#consentApis.set(client, held);
    }
    const created = await held.api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() });
    const consentId = (created.body as { Data?: { ConsentId?: string } }).Data?.ConsentId;
    if (!consentId) throw new Error(`the consent API refused: ${created.status} ${JSON.stringify(created.body)}`);
    return consentId;
  }

  /**
   * The authorization request the suite's UK profile sends: code flow with PKCE S256, state and nonce, the
   * consent bound by the essential openbanking_intent_id claim (simple) or by authorization_details (rar),
   * and response_mode=jwt under JARM. `overrides` replace parameters; an undefined one is left out.
   */
  async authorizationRequest(
    client: Fapi2Client = this.client,
    overrides: Record<string, unknown> = {},
    options: { consentId?: string; dpopKey?: DpopKey | null } = {},
  ): Promise<AuthorizationRequest> {
    const consentId = options.consentId ?? (await this.createConsent(client));
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const binding =
      this.variant.authorization_request_type === 'rar'
        ? { authorization_details: [{ type: 'account_information', consent_id: consentId }] }
        : { claims: { id_token: { [INTENT_CLAIM]: { value: consentId, essential: true } } } };
    const parameters: Record<string, unknown> = {
      response_type: 'code',
      client_id: client.tpp.clientId,
      redirect_uri: client.tpp.redirectUri,
      scope: 'openid accounts',
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      ...binding,
      ...(this.jarm && { response_mode: 'jwt' }),
    };
    for (const [name, value] of Object.entries(overrides)) {
      if (value === undefined) delete parameters[name];
      else parameters[name] = value;
    }
    const dpopKey = options.dpopKey === null ? undefined : (options.dpopKey ?? (this.dpop ? newDpopKey() : undefined));
    return { client, parameters, codeVerifier, consentId, dpopKey };
  }

  /** The request object of `request` (FAPI 2.0 Message Signing, JAR), its claims bent by `edit`. */
  requestObject(request: AuthorizationRequest, edit: JwtEdit = {}): string {
    const issued = now();
    const claims = {
      ...request.parameters,
      iss: request.client.tpp.clientId,
      aud: this.assent.issuer,
      iat: issued,
      nbf: issued,
      exp: issued + 300,
      jti: randomUUID(),
    };
    return signJwt({ alg: 'PS256', kid: request.client.tpp.kid, typ: 'oauth-authz-req+jwt' }, claims, request.client.key, edit);
  }

  /**
   * Pushes `request` (PAR): as a signed request object under message signing (or when `requestObject` is
   * given), else as plain parameters; client authentication and a DPoP proof of the request's key as the
   * variant says, each bendable.
   */
  async push(
    request: AuthorizationRequest,
    options: {
      requestObject?: JwtEdit | false;
      assertion?: JwtEdit | 'none';
      form?: Record<string, string>;
      dpop?: (nonce: string | undefined) => string | string[];
      agent?: Agent;
      method?: string;
    } = {},
  ): Promise<HttpAnswer> {
    const sendsObject = options.requestObject !== false && (this.signed || options.requestObject !== undefined);
    const parameters = sendsObject
      ? { client_id: request.client.tpp.clientId, request: this.requestObject(request, options.requestObject || {}) }
      : Object.fromEntries(
          Object.entries(request.parameters).map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)]),
        );
    const url = this.url(ENGINE_PATHS.pushed_authorization_request);
    const key = request.dpopKey;
    return this.send(url, {
      method: options.method,
      form: () => ({ ...parameters, ...this.clientAuthentication(request.client, options.assertion), ...options.form }),
      agent: options.agent ?? request.client.tpp.agent,
      dpop: options.dpop ?? (key && ((nonce) => this.dpopProof(key, 'POST', url, nonce))),
    });
  }

  /** The authorization endpoint URL for a pushed request: client_id and request_uri only. */
  authorizationUrl(client: Fapi2Client, requestUri: string, extra: Record<string, string> = {}): URL {
    const url = new URL(this.url(ENGINE_PATHS.authorization));
    url.search = new URLSearchParams({ client_id: client.tpp.clientId, request_uri: requestUri, ...extra }).toString();
    return url;
  }

  /** Pushes and expects a request_uri back. */
  async pushed(request: AuthorizationRequest, options: Parameters<Fapi2Flow['push']>[1] = {}): Promise<string> {
    const answer = await this.push(request, options);
    const requestUri = answer.body.request_uri;
    if (answer.status !== 201 || typeof requestUri !== 'string') throw new Error(`PAR refused: ${answer.status} ${answer.text}`);
    return requestUri;
  }

  /**
   * A customer with two accounts at the authorization endpoint (#customerWithCode): signs in with both factors and
   * approves (or denies) the consent. Ends at the redirect back to the client, or at a page of the
   * server's own that it stops on (an error page), whichever comes first.
   */
  async customerAuthorizes(url: URL, decision: 'approve' | 'deny' = 'approve'): Promise<{ callback?: URL; page?: Page }> {
    const { customer, code, current, savings } = await this.#customerWithCode();
    const browser = new CustomerAgent(tlsAgent(this.assent.ca.certPem), this.assent.issuer);
    const origin = new URL(this.assent.issuer).origin;
    const login = await browser.open(url);
    if (login.url.origin !== origin) return { callback: login.url };
    if (!login.url.pathname.startsWith('/interaction/')) return { page: login };
    const otp = await browser.submit(login, 'login', { username: customer.username, password: customer.password });
    const consent = await browser.submit(otp, 'otp', { code });
    if (consent.url.origin !== origin) return { callback: consent.url };
    const done =
      decision === 'approve'
        ? await browser.submit(consent, 'confirm', { [`account:${current.id}`]: 'on', [`account:${savings.id}`]: 'on' })
        : await browser.submit(consent, 'abort');
    return done.url.origin === origin ? { page: done } : { callback: done.url };
  }

  /**
   * A customer whose authenticator still has an unused one-time code, and that code. Each code is accepted
   * once and three are valid at a time, so a customer signs in at most three times in 30 seconds; a new one
   * (two accounts) is made when every customer so far has spent theirs.
   */
  async #customerWithCode() {
    for (const held of this.#customers) {
      try {
        return { ...held, code: held.customer.nextCode() };
      } catch (error) {
        // This customer's codes of the moment are spent: try the next.
        if (!/codes used within 30 seconds/.test((error as Error).message)) throw error;
      }
    }
    const made = await customerWithAccounts(this.assent);
    this.#customers.push(made);
    return { ...made, code: made.customer.nextCode() };
  }

  /**
   * The authorization response on `callback`: with JARM, the `response` JWT verified (signature with the
   * server's keys, iss, aud = client, exp) and its claims; else the query. Checks it came to the client's
   * redirect_uri and carries `iss` (RFC 9207).
   */
  async authorizationResponse(client: Fapi2Client, callback: URL): Promise<AuthorizationResponse> {
    if (`${callback.origin}${callback.pathname}` !== client.tpp.redirectUri) throw new Error(`redirected elsewhere: ${callback.href}`);
    if (!this.jarm) {
      const params = Object.fromEntries(callback.searchParams);
      if (params.iss !== this.assent.issuer) throw new Error(`the response's iss is ${params.iss}`);
      return { url: callback, params };
    }
    const response = callback.searchParams.get('response');
    if (!response || callback.searchParams.has('code') || callback.searchParams.has('error'))
      throw new Error(`not a JARM response: ${callback.search}`);
    const { payload, protectedHeader } = await jwtVerify(response, this.#jwks, {
      issuer: this.assent.issuer,
      audience: client.tpp.clientId,
      algorithms: ['PS256', 'ES256'],
      requiredClaims: ['exp'],
    });
    if (protectedHeader.alg === 'none') throw new Error('an unsigned JARM response');
    return { url: callback, params: Object.fromEntries(Object.entries(payload).map(([name, value]) => [name, String(value)])) };
  }

  /** Pushes `request`, lets a customer approve it and returns the authorization response (which must be a code). */
  async authorize(request: AuthorizationRequest, options: { decision?: 'approve' | 'deny'; push?: Parameters<Fapi2Flow['push']>[1] } = {}) {
    const requestUri = await this.pushed(request, options.push);
    const { callback, page } = await this.customerAuthorizes(this.authorizationUrl(request.client, requestUri), options.decision);
    if (!callback) throw new Error(`the customer ended on a page of the server: ${page?.status} ${page?.body.slice(0, 300)}`);
    return { requestUri, response: await this.authorizationResponse(request.client, callback) };
  }

  /**
   * A token request at the token endpoint as `client` with its authentication and, under DPoP, a proof of
   * `dpopKey`; `proof: false` sends none, `agent` replaces the client's connection.
   */
  async tokenRequest(
    client: Fapi2Client,
    form: Record<string, string>,
    options: {
      dpopKey?: DpopKey;
      proof?: false | ((nonce: string | undefined) => string);
      assertion?: JwtEdit | 'none';
      agent?: Agent;
    } = {},
  ): Promise<HttpAnswer> {
    const url = this.url(ENGINE_PATHS.token);
    const key = options.dpopKey;
    const proof =
      options.proof === false
        ? undefined
        : (options.proof ?? (key && ((nonce: string | undefined) => this.dpopProof(key, 'POST', url, nonce))));
    return this.send(url, {
      form: () => ({ ...form, ...this.clientAuthentication(client, options.assertion) }),
      agent: options.agent ?? client.tpp.agent,
      dpop: proof,
    });
  }

  /**
   * Redeems the code of `response` for `request` (PKCE verifier, redirect_uri, the request's DPoP key);
   * `form` replaces fields, and an undefined one is left out.
   */
  redeem(
    request: AuthorizationRequest,
    response: AuthorizationResponse,
    options: Parameters<Fapi2Flow['tokenRequest']>[2] & { form?: Record<string, string | undefined> } = {},
  ) {
    const fields: Record<string, string | undefined> = {
      grant_type: 'authorization_code',
      code: response.params.code ?? '',
      redirect_uri: request.client.tpp.redirectUri,
      code_verifier: request.codeVerifier,
      ...options.form,
    };
    const form = Object.fromEntries(Object.entries(fields).filter((field): field is [string, string] => field[1] !== undefined));
    return this.tokenRequest(request.client, form, { dpopKey: request.dpopKey, ...options });
  }

  /** The id token verified (signature, iss, aud, exp) and its claims. */
  async idToken(client: Fapi2Client, idToken: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(idToken, this.#jwks, {
      issuer: this.assent.issuer,
      audience: client.tpp.clientId,
      algorithms: ['PS256', 'ES256'],
    });
    return payload;
  }

  /** The access token's authorization header scheme the variant uses. */
  scheme(): string {
    return this.dpop ? 'DPoP' : 'Bearer';
  }

  /**
   * The protected resource of the variant, as the suite's UK profile calls it: for intent-bound tokens
   * (simple) the userinfo endpoint with the customer's token; for authorization_details tokens, whose
   * audience is the bank's API (which Assent does not serve: the bank's resource servers introspect), the
   * consent API's read of the bound consent (the UK profile's account-requests endpoint) with the client's
   * client_credentials token, bound the same way.
   */
  async resource(request: AuthorizationRequest, customerToken: string): Promise<ResourceTarget> {
    if (this.variant.authorization_request_type === 'simple')
      return { url: this.url(ENGINE_PATHS.userinfo), token: customerToken, key: request.dpopKey };
    const key = this.dpop ? newDpopKey() : undefined;
    const granted = await this.tokenRequest(request.client, { grant_type: 'client_credentials', scope: 'accounts' }, { dpopKey: key });
    if (granted.status !== 200) throw new Error(`no client_credentials token: ${granted.status} ${granted.text}`);
    return { url: this.url(`${ACCOUNT_ACCESS}/${request.consentId}`), token: String(granted.body.access_token), key };
  }

  /** Calls `url` with `token` and, under DPoP, a proof of `key` (bent by `edit`), `scheme` as given. */
  callResource(
    client: Fapi2Client,
    target: ResourceTarget,
    options: {
      edit?: JwtEdit;
      scheme?: string;
      proofs?: (nonce: string | undefined) => string | string[];
      noProof?: boolean;
      agent?: Agent;
      method?: string;
    } = {},
  ): Promise<HttpAnswer> {
    const method = options.method ?? 'GET';
    const key = target.key;
    const dpop =
      options.noProof || !key
        ? undefined
        : (options.proofs ?? ((nonce: string | undefined) => this.dpopProof(key, method, target.url, nonce, target.token, options.edit)));
    return this.send(target.url, {
      method,
      headers: { authorization: `${options.scheme ?? this.scheme()} ${target.token}` },
      agent: options.agent ?? client.tpp.agent,
      dpop,
    });
  }

  /** Introspection by the client itself: whether the token is active and what it is bound to. */
  async introspect(client: Fapi2Client, token: string): Promise<Record<string, unknown>> {
    const answer = await this.send(this.url(ENGINE_PATHS.introspection), {
      form: () => ({ token, ...this.clientAuthentication(client) }),
      agent: client.tpp.agent,
    });
    if (answer.status !== 200) throw new Error(`introspection refused: ${answer.status} ${answer.text}`);
    return answer.body;
  }

  /** The confirmation a token bound by the variant carries: the DPoP key's thumbprint or the certificate's. */
  expectedCnf(client: Fapi2Client, dpopKey: DpopKey | undefined): Record<string, string> {
    return this.dpop ? { jkt: dpopKey!.thumbprint } : { 'x5t#S256': sha256(new X509Certificate(client.tpp.certificate.certPem).raw) };
  }

  /** The TLS protocol and cipher a connection to the server ends with, given the client's offer. */
  tlsHandshake(options: {
    maxVersion?: 'TLSv1.2' | 'TLSv1.3';
    ciphers?: string;
  }): Promise<{ protocol: string | null; cipher: string } | Error> {
    const { hostname, port } = new URL(this.assent.issuer);
    return new Promise((resolve) => {
      const socket = connect(
        {
          host: hostname,
          port: Number(port),
          ca: this.assent.ca.certPem,
          servername: hostname === 'localhost' ? hostname : undefined,
          ...options,
        },
        () => {
          resolve({ protocol: socket.getProtocol(), cipher: socket.getCipher().name });
          socket.end();
        },
      );
      socket.on('error', (error) => resolve(error));
    });
  }
}

/** One flow per variant for a plan's tests, made on first use: a module's variants share their clients. */
export function fapi2Flows(assent: TestAssent & { clock?: MovableClock }): (variant: Fapi2Variant) => Promise<Fapi2Flow> {
  const flows = new Map<string, Promise<Fapi2Flow>>();
  return (variant) => {
    const label = variantLabel(variant);
    if (!flows.has(label)) flows.set(label, Fapi2Flow.create(assent, variant));
    return flows.get(label)!;
  };
}

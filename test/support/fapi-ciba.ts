import { generateKeyPairSync, randomBytes, randomUUID, type webcrypto } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify, SignJWT, UnsecuredJWT } from 'jose';
import { type Agent, fetch } from 'undici';
import { issueCertificate } from '../../src/http/dev-pki.ts';
import { CIBA_GRANT_TYPE } from '../../src/protocol/ciba.ts';
import { ENGINE_PATHS } from '../../src/protocol/routes.ts';
import { type TestAssent, tlsAgent } from './assent.ts';
import { DeviceApp, intentClaimsObject } from './ciba.ts';
import { ACCOUNT_ACCESS, accountAccessRequest, ConsentApiClient } from './consent-api.ts';
import { oneTimeCode } from './customers.ts';
import { customerWithAccounts } from './granted-consents.ts';
import { createTestTpp, type TestTpp } from './tpp.ts';

/**
 * The conformance suite's FAPI-CIBA client, played against a real Assent: clients registered as the suite
 * registers them (certificate-bound tokens, signed backchannel requests, poll or ping), every request
 * built by hand so a module can break exactly the part it breaks (a claim of the request object, the
 * client assertion, the certificate on the connection), a customer who approves or denies on the
 * authentication device, and the TPP's notification endpoint for ping mode.
 */

export type ClientAuth = 'private_key_jwt' | 'mtls';
export type Mode = 'poll' | 'ping';

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** One call of the TPP's notification endpoint, as it arrived. */
export interface Ping {
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

/** How the notification endpoint answers pings carrying one client_notification_token. */
export interface PingAnswer {
  status: number;
  body?: string;
  location?: string;
}

/**
 * The TPP's CIBA notification endpoint: HTTPS on localhost with a dev-CA certificate, recording each
 * ping by the bearer token it carries, and answering as told for that token (204 unless told).
 */
export class PingReceiver {
  readonly #pings = new Map<string, Ping[]>();
  readonly #answers = new Map<string, PingAnswer>();
  readonly #server: https.Server;

  private constructor(server: https.Server) {
    this.#server = server;
  }

  static async start(assent: TestAssent): Promise<PingReceiver> {
    const pair = await issueCertificate(assent.ca, { subject: 'CN=localhost', dnsNames: ['localhost'], usage: 'server' });
    let receiver: PingReceiver | undefined;
    const server = https.createServer({ cert: pair.certPem, key: pair.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
        const ping = {
          authorization: req.headers.authorization,
          contentType: req.headers['content-type'],
          body: Buffer.concat(chunks).toString('utf8'),
        };
        receiver!.#pings.set(token, [...(receiver!.#pings.get(token) ?? []), ping]);
        const answer = receiver!.#answers.get(token) ?? { status: 204 };
        res.writeHead(answer.status, answer.location ? { location: answer.location } : {}).end(answer.body);
      });
    });
    receiver = new PingReceiver(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `https://localhost:${(this.#server.address() as AddressInfo).port}/ciba-notification`;
  }

  answer(token: string, answer: PingAnswer): void {
    this.#answers.set(token, answer);
  }

  pingsOf(token: string): Ping[] {
    return this.#pings.get(token) ?? [];
  }

  /** The first ping carrying `token`, waited for a little (it follows the customer's decision's commit). */
  async waitFor(token: string, timeoutMs = 15_000): Promise<Ping | undefined> {
    for (const started = Date.now(); Date.now() - started < timeoutMs; await sleep(50)) {
      const [ping] = this.pingsOf(token);
      if (ping) return ping;
    }
    return undefined;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** A client as the suite registers it: certificate-bound tokens, PS256 request objects, poll or ping. */
export interface CibaClient {
  tpp: TestTpp;
  auth: ClientAuth;
  mode: Mode;
  /** The consent API with this client's client_credentials token, to create the consent a request names. */
  api: ConsentApiClient;
}

export async function registerCibaClient(assent: TestAssent, auth: ClientAuth, mode: Mode, pings: PingReceiver): Promise<CibaClient> {
  const tpp = await createTestTpp(assent, {
    auth: auth === 'mtls' ? 'tls_client_auth' : 'private_key_jwt',
    metadata: {
      grant_types: ['client_credentials', 'refresh_token', CIBA_GRANT_TYPE],
      backchannel_token_delivery_mode: mode,
      backchannel_authentication_request_signing_alg: 'PS256',
      backchannel_user_code_parameter: false,
      // FAPI-CIBA is a profile of FAPI 1.0 Advanced: certificate-bound tokens, and client assertions whose
      // aud may be the token endpoint (the suite's default), which the FAPI 2.0 profile refuses.
      fapi_profile: '1.0 Final',
      tls_client_certificate_bound_access_tokens: true,
      dpop_bound_access_tokens: false,
      ...(mode === 'ping' && { backchannel_client_notification_endpoint: pings.url }),
    },
  });
  return { tpp, auth, mode, api: await ConsentApiClient.create(assent, tpp, 'accounts') };
}

/** An account-access consent the client created, awaiting the customer. */
export async function accountConsent(client: CibaClient): Promise<string> {
  const created = await client.api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() });
  const consentId = (created.body as { Data?: { ConsentId?: string } }).Data?.ConsentId;
  if (!consentId) throw new Error(`the consent API refused: ${JSON.stringify(created.body)}`);
  return consentId;
}

/** The claims of the suite's request object: iss, aud, iat, nbf, exp (5 minutes) and jti, then the module's. */
export function requestObjectClaims(assent: Pick<TestAssent, 'issuer'>, client: CibaClient, claims: Record<string, unknown>): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return { iss: client.tpp.clientId, aud: assent.issuer, iat: now, nbf: now, exp: now + 300, jti: randomUUID(), ...claims };
}

/** Signs request object claims as they are (a claim set to undefined is left out), PS256 with the client's key. */
export function signRequestObject(
  client: CibaClient,
  claims: JWTPayload,
  key: { key: webcrypto.CryptoKey; kid: string; alg?: string } = { key: client.tpp.privateKey, kid: client.tpp.kid },
): Promise<string> {
  const present = Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined));
  return new SignJWT(present).setProtectedHeader({ alg: key.alg ?? 'PS256', kid: key.kid, typ: 'JWT' }).sign(key.key);
}

/** The same claims with `alg: none`. */
export function unsignedRequestObject(claims: JWTPayload): string {
  return new UnsecuredJWT(claims).encode();
}

/** An RSA key of the client's kid that signs RS256, which no FAPI server may accept. */
export async function rs256Key(client: CibaClient): Promise<{ key: webcrypto.CryptoKey; kid: string; alg: string }> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = await crypto.subtle.importKey(
    'pkcs8',
    privateKey.export({ type: 'pkcs8', format: 'der' }),
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return { key, kid: client.tpp.kid, alg: 'RS256' };
}

/**
 * How a request authenticates the client: as registered (an assertion's aud as the suite sets it: the
 * issuer at the backchannel endpoint, the token endpoint at the token endpoint), with no assertion at
 * all, with an RS256 assertion, or with an assertion for another audience.
 */
export type Authentication = 'registered' | 'client_id_only' | 'rs256_assertion' | { assertionAudience: string };

async function clientAssertion(
  assent: TestAssent,
  client: CibaClient,
  audience: string,
  key?: { key: webcrypto.CryptoKey; kid: string; alg: string },
) {
  const now = Math.floor(Date.now() / 1000);
  const signing = key ?? { key: client.tpp.privateKey, kid: client.tpp.kid, alg: 'PS256' };
  return new SignJWT({})
    .setProtectedHeader({ alg: signing.alg, kid: signing.kid })
    .setIssuer(client.tpp.clientId)
    .setSubject(client.tpp.clientId)
    .setAudience(audience)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .setJti(randomUUID())
    .sign(signing.key);
}

/** The form fields that authenticate `client` at an endpoint of Assent's (mtls: its client_id beside the certificate). */
async function authenticationFields(
  assent: TestAssent,
  client: CibaClient,
  endpoint: string,
  how: Authentication,
): Promise<Record<string, string>> {
  if (client.auth === 'mtls' || how === 'client_id_only') return { client_id: client.tpp.clientId };
  const audience =
    typeof how === 'object' ? how.assertionAudience : endpoint === ENGINE_PATHS.token ? `${assent.issuer}${endpoint}` : assent.issuer;
  return {
    client_id: client.tpp.clientId,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await clientAssertion(assent, client, audience, how === 'rs256_assertion' ? await rs256Key(client) : undefined),
  };
}

export interface CallOptions {
  authentication?: Authentication;
  /** The TLS connection to call over; the client's own (its certificate) unless said. */
  agent?: Agent;
  /** Fields that replace those the authentication adds (client_id of another client, ...). */
  override?: Record<string, string>;
}

async function post(
  assent: TestAssent,
  client: CibaClient,
  endpoint: string,
  form: Record<string, string>,
  options: CallOptions,
): Promise<HttpAnswer> {
  const fields = {
    ...(await authenticationFields(assent, client, endpoint, options.authentication ?? 'registered')),
    ...form,
    ...options.override,
  };
  const response = await fetch(`${assent.issuer}${endpoint}`, {
    method: 'POST',
    dispatcher: options.agent ?? client.tpp.agent,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers as unknown as Headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** POST /backchannel with these fields (`request=<JWT>` for a FAPI-CIBA request). */
export function backchannel(assent: TestAssent, client: CibaClient, form: Record<string, string>, options: CallOptions = {}) {
  return post(assent, client, ENGINE_PATHS.backchannel_authentication, form, options);
}

/** The token endpoint's CIBA grant for one auth_req_id. */
export function cibaToken(assent: TestAssent, client: CibaClient, authReqId: string, options: CallOptions = {}) {
  return post(assent, client, ENGINE_PATHS.token, { grant_type: CIBA_GRANT_TYPE, auth_req_id: authReqId }, options);
}

/** The token endpoint's refresh_token grant. */
export function refreshToken(assent: TestAssent, client: CibaClient, token: string, options: CallOptions = {}) {
  return post(assent, client, ENGINE_PATHS.token, { grant_type: 'refresh_token', refresh_token: token }, options);
}

const B64TOKEN = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/';

/**
 * A client_notification_token as the suite makes them (ping mode): random characters of RFC 6750's
 * b64token, 28 of them, or 1024 for CreateLongRandomClientNotificationToken.
 */
export const notificationToken = (length = 28) => [...randomBytes(length)].map((byte) => B64TOKEN[byte % B64TOKEN.length]).join('');

/** A started request: what the backchannel endpoint answered, and what the module sent to get it. */
export interface Started {
  consentId: string;
  authReqId: string;
  answer: HttpAnswer;
  notificationToken: string | undefined;
}

/**
 * The suite's backchannel request: a consent of the client's, then a signed request object with the hint,
 * a binding message, the consent's intent, and in ping mode a client_notification_token; `claims` change
 * or remove (undefined) any of it. Returns the endpoint's answer whatever it is.
 */
export async function startRequest(
  assent: TestAssent,
  client: CibaClient,
  loginHint: string,
  claims: Record<string, unknown> = {},
  options: CallOptions = {},
): Promise<Started> {
  const consentId = await accountConsent(client);
  const given = claims.client_notification_token;
  const token = typeof given === 'string' ? given : client.mode === 'ping' ? notificationToken() : undefined;
  const request = await signRequestObject(
    client,
    requestObjectClaims(assent, client, {
      scope: 'openid accounts',
      login_hint: loginHint,
      binding_message: 'TILL 1',
      claims: intentClaimsObject(consentId),
      ...(token && { client_notification_token: token }),
      ...claims,
    }),
  );
  const answer = await backchannel(assent, client, { request }, options);
  return { consentId, authReqId: String(answer.body.auth_req_id ?? ''), answer, notificationToken: token };
}

/**
 * The customer on the authentication device: signed in to the bank's app (one of the three one-time codes
 * a 30-second step gives), so two decisions are left to take.
 */
export class Customer {
  readonly username: string;
  readonly #app: DeviceApp;
  readonly #decide: () => Promise<{ code: string; accountId: string }>;

  private constructor(username: string, app: DeviceApp, decide: () => Promise<{ code: string; accountId: string }>) {
    this.username = username;
    this.#app = app;
    this.#decide = decide;
  }

  static async create(assent: TestAssent): Promise<Customer> {
    const { customer, current } = await customerWithAccounts(assent);
    const app = await DeviceApp.signIn(assent, customer);
    return new Customer(customer.username, app, async () => ({ code: await oneTimeCode(customer), accountId: current.id }));
  }

  async #pendingOf(consentId: string) {
    const request = (await this.#app.pending()).find((candidate) => candidate.consent.id === consentId);
    if (!request) throw new Error(`no pending request for consent ${consentId} on the device`);
    return request;
  }

  /** Approves the request for `consentId` with the one-time code and the current account. */
  async approve(consentId: string): Promise<void> {
    const request = await this.#pendingOf(consentId);
    let decision = await this.#decide();
    let answer = await this.#app.approve(request.id, { code: decision.code, account_ids: [decision.accountId] });
    // A code of the step before can age out while a loaded machine delivers it: type the next one, as a customer would.
    if (answer.status === 403 && answer.body.error === 'invalid_code') {
      decision = await this.#decide();
      answer = await this.#app.approve(request.id, { code: decision.code, account_ids: [decision.accountId] });
    }
    if (answer.status !== 200) throw new Error(`approval refused: ${answer.status} ${JSON.stringify(answer.body)}`);
  }

  /** Presses Deny on the request for `consentId`. */
  async deny(consentId: string): Promise<void> {
    const answer = await this.#app.deny((await this.#pendingOf(consentId)).id);
    if (answer.status !== 200) throw new Error(`denial refused: ${answer.status} ${JSON.stringify(answer.body)}`);
  }

  /** The binding message the device shows for the request of `consentId`. */
  async bindingMessageOf(consentId: string): Promise<string> {
    return (await this.#pendingOf(consentId)).binding_message;
  }
}

/** Verifies an ID token's signature against Assent's JWKS and its iss and aud; its claims. */
export async function verifiedIdToken(
  assent: TestAssent,
  client: CibaClient,
  idToken: string,
): Promise<JWTPayload & Record<string, unknown>> {
  const keys = (await (
    await fetch(`${assent.issuer}${ENGINE_PATHS.jwks}`, { dispatcher: tlsAgent(assent.ca.certPem) })
  ).json()) as JSONWebKeySet;
  const jwks = createLocalJWKSet(keys);
  const { payload, protectedHeader } = await jwtVerify(idToken, jwks, {
    issuer: assent.issuer,
    audience: client.tpp.clientId,
    algorithms: ['PS256', 'ES256'],
  });
  if (!protectedHeader.kid) throw new Error('the ID token names no kid');
  return payload as JWTPayload & Record<string, unknown>;
}

/** GET userinfo (the protected resource every client can reach) with a token, over `agent`. */
export async function userinfo(assent: TestAssent, accessToken: string, agent: Agent): Promise<number> {
  const response = await fetch(`${assent.issuer}${ENGINE_PATHS.userinfo}`, {
    dispatcher: agent,
    headers: { authorization: `Bearer ${accessToken}` },
  });
  await response.arrayBuffer();
  return response.status;
}

/** A TLS connection to Assent presenting no client certificate. */
export const anonymousAgent = (assent: TestAssent) => tlsAgent(assent.ca.certPem);

/**
 * Customers to decide requests, each signed in once and so good for two decisions (three one-time codes a
 * 30-second step, the first spent signing in): a test takes the decisions it will make, and a customer
 * is made only when the last one's are taken. Signing in costs a password hash; this halves them.
 */
export class CustomerPool {
  readonly #assent: TestAssent;
  #current: Promise<Customer> | undefined;
  #left = 0;

  constructor(assent: TestAssent) {
    this.#assent = assent;
  }

  take(decisions: 1 | 2 = 1): Promise<Customer> {
    if (!this.#current || this.#left < decisions) {
      this.#current = Customer.create(this.#assent);
      this.#left = 2;
    }
    this.#left -= decisions;
    return this.#current;
  }
}

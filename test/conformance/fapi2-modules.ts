import assert from 'node:assert/strict';
import { randomBytes, generateKeyPairSync, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { tlsAgent } from '../support/assent.ts';
import {
  type AuthorizationRequest,
  base64url,
  breakSignature,
  type Fapi2Flow,
  type HttpAnswer,
  type JwtEdit,
  newDpopKey,
} from '../support/fapi2-flow.ts';
import { SCA_ACR } from '../../src/protocol/acr.ts';
import { INTENT_CLAIM } from '../../src/protocol/consent-types.ts';
import { ENGINE_PATHS, OAUTH_METADATA_PATH } from '../../src/protocol/routes.ts';
import { PAR_LIFETIME_SECONDS } from '../../src/oidc/provider.ts';

/**
 * What each module of the suite's two FAPI 2.0 authorization-server plans does and checks, keyed by the
 * module's name (its @PublishTestModule testName), played through the flow driver. Where the suite lets a
 * server choose between outcomes (refuse at PAR, show an error page, or redirect back with an error), the
 * module accepts each of them, as the suite does, but never a code.
 */
export type ConformanceModule = (flow: Fapi2Flow) => Promise<void>;

const PAR_ERRORS = ['invalid_request', 'invalid_request_object', 'invalid_client', 'unauthorized_client'];
const REDIRECT_ERRORS = ['invalid_request', 'invalid_request_object', 'invalid_request_uri', 'access_denied', 'unsupported_response_type'];

function assertOAuthError(answer: HttpAnswer, errors: readonly string[], statuses: readonly number[] = [400, 401]) {
  assert.ok(statuses.includes(answer.status), `status ${answer.status} (${answer.text.slice(0, 200)})`);
  assert.ok(errors.includes(String(answer.body.error)), `error ${String(answer.body.error)}: ${String(answer.body.error_description)}`);
  assert.equal(answer.body.access_token, undefined);
}

/**
 * The suite's "PAR expecting authorization endpoint placeholder or callback": the request is refused at PAR,
 * or the authorization endpoint shows an error page, or the customer comes back with an error; never a code.
 */
async function refused(
  flow: Fapi2Flow,
  request: AuthorizationRequest,
  push: Parameters<Fapi2Flow['push']>[1] = {},
  errors: readonly string[] = [...PAR_ERRORS, ...REDIRECT_ERRORS],
): Promise<void> {
  const answer = await flow.push(request, push);
  if (answer.status !== 201) return assertOAuthError(answer, errors);
  const { callback, page } = await flow.customerAuthorizes(flow.authorizationUrl(request.client, String(answer.body.request_uri)));
  if (page) return assert.ok(page.status >= 400, `an error page, not ${page.url} (${page.status})`);
  const response = await flow.authorizationResponse(request.client, callback!);
  assert.equal(response.params.code, undefined, 'no code');
  assert.ok(errors.includes(response.params.error ?? ''), `error ${response.params.error}`);
}

/** The checks of a successful code flow: state echoed, iss, tokens bound the variant's way, id token, resource. */
async function successfulFlow(flow: Fapi2Flow, request: AuthorizationRequest, options: { push?: Parameters<Fapi2Flow['push']>[1] } = {}) {
  const pushed = await flow.push(request, options.push);
  assert.equal(pushed.status, 201, pushed.text);
  const requestUri = String(pushed.body.request_uri);
  assert.match(requestUri, /^urn:ietf:params:oauth:request_uri:/);
  // FAPI 2.0 SP 5.3.2.2-5: a request_uri lives less than 600 seconds.
  assert.ok(Number(pushed.body.expires_in) > 0 && Number(pushed.body.expires_in) < 600, `expires_in ${String(pushed.body.expires_in)}`);
  const { callback, page } = await flow.customerAuthorizes(flow.authorizationUrl(request.client, requestUri));
  assert.ok(callback, `back to the client, not a page (${page?.status} ${page?.body.slice(0, 200)})`);
  const response = await flow.authorizationResponse(request.client, callback);
  assert.ok(response.params.code, `a code (${JSON.stringify(response.params)})`);
  assert.equal(response.params.iss, flow.assent.issuer);
  assert.equal(response.params.state, request.parameters.state === undefined ? undefined : String(request.parameters.state));
  const answer = await flow.redeem(request, response);
  assert.equal(answer.status, 200, answer.text);
  assert.match(answer.headers.get('cache-control') ?? '', /no-store/, 'RFC 6749 5.1: the token response is not cached');
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  const tokens = answer.body as Record<string, string> & { expires_in: number };
  assert.equal(tokens.token_type?.toLowerCase(), flow.scheme().toLowerCase());
  assert.ok(tokens.expires_in > 0);
  // RFC 6749 10.10: at least 128 bits of entropy, which base64url needs 22 characters for.
  for (const name of ['access_token', 'refresh_token']) assert.ok((tokens[name]?.length ?? 0) >= 22, `${name} long enough`);
  const idToken = await flow.idToken(request.client, tokens.id_token!);
  assert.ok(idToken.sub && typeof idToken.iat === 'number' && typeof idToken.exp === 'number', 'sub, iat and exp');
  assert.equal(idToken.nonce, request.parameters.nonce === undefined ? undefined : String(request.parameters.nonce));
  assert.equal(idToken.acr, SCA_ACR);
  assert.equal(idToken[INTENT_CLAIM], request.consentId);
  assert.equal(idToken.s_hash, undefined, 'FAPI 2.0 id tokens carry no s_hash');
  if (flow.variant.authorization_request_type === 'rar')
    assert.deepEqual(tokens.authorization_details, [{ type: 'account_information', consent_id: request.consentId }]);
  const target = await flow.resource(request, tokens.access_token!);
  const resource = await flow.callResource(request.client, target);
  assert.equal(resource.status, 200, `the resource answers (${resource.text.slice(0, 200)})`);
  return { requestUri, response, tokens, idToken, target };
}

/** A code for `request`, approved by a customer (the start of every token endpoint module). */
async function approvedCode(flow: Fapi2Flow, request?: AuthorizationRequest) {
  const sent = request ?? (await flow.authorizationRequest());
  const { response } = await flow.authorize(sent);
  assert.ok(response.params.code);
  return { request: sent, response };
}

/** A token endpoint module: the code is refused with one of `errors`, and then still redeems normally unless `spent`. */
async function codeRefused(
  flow: Fapi2Flow,
  errors: readonly string[],
  options: Parameters<Fapi2Flow['redeem']>[2] = {},
  request?: AuthorizationRequest,
) {
  const { request: sent, response } = await approvedCode(flow, request);
  assertOAuthError(await flow.redeem(sent, response, options), errors);
  return { request: sent, response };
}

async function happyFlow(flow: Fapi2Flow) {
  for (const client of [flow.client, flow.client2]) {
    const request = await flow.authorizationRequest(client);
    const { tokens, target } = await successfulFlow(flow, request);
    const introspected = await flow.introspect(client, tokens.access_token!);
    assert.equal(introspected.active, true);
    assert.deepEqual(introspected.cnf, flow.expectedCnf(client, request.dpopKey));
    // Sender-constrained: the token alone, without its proof of possession, is refused.
    const other = client === flow.client ? flow.client2 : flow.client;
    const stolen = flow.dpop
      ? await flow.callResource(client, target, { noProof: true, scheme: 'Bearer' })
      : await flow.callResource(client, target, { agent: other.tpp.agent });
    assert.equal(stolen.status, 401, 'a token without its proof of possession');
  }
}

async function discovery(flow: Fapi2Flow) {
  const metadata = flow.discovery;
  assert.equal(metadata.issuer, flow.assent.issuer);
  for (const endpoint of [
    'authorization_endpoint',
    'token_endpoint',
    'pushed_authorization_request_endpoint',
    'jwks_uri',
    'userinfo_endpoint',
  ])
    assert.match(String(metadata[endpoint]), /^https:\/\//, endpoint);
  assert.equal(metadata.require_pushed_authorization_requests, true);
  assert.deepEqual(metadata.response_types_supported, ['code']);
  assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
  assert.ok((metadata.grant_types_supported as string[]).includes('authorization_code'));
  assert.ok((metadata.scopes_supported as string[]).includes('openid'));
  assert.equal(metadata.authorization_response_iss_parameter_supported, true);
  assert.equal(metadata.claims_parameter_supported, true);
  assert.ok((metadata.claims_supported as string[]).includes(INTENT_CLAIM));
  assert.ok((metadata.acr_values_supported as string[]).includes(SCA_ACR));
  const methods = metadata.token_endpoint_auth_methods_supported as string[];
  assert.ok(methods.includes(flow.privateKeyJwt ? 'private_key_jwt' : 'tls_client_auth'));
  for (const method of methods) assert.ok(['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'].includes(method), method);
  const fapiAlgs = ['PS256', 'ES256', 'EdDSA'];
  for (const name of [
    'id_token_signing_alg_values_supported',
    'token_endpoint_auth_signing_alg_values_supported',
    'request_object_signing_alg_values_supported',
    'authorization_signing_alg_values_supported',
    'dpop_signing_alg_values_supported',
  ])
    for (const alg of metadata[name] as string[]) assert.ok(fapiAlgs.includes(alg), `${name}: ${alg}`);
  if (flow.dpop) assert.ok((metadata.dpop_signing_alg_values_supported as string[]).length > 0);
  else assert.equal(metadata.tls_client_certificate_bound_access_tokens, true);
  if (flow.jarm) assert.ok((metadata.response_modes_supported as string[]).includes('jwt'));
  assert.ok(Array.isArray(metadata.subject_types_supported) && metadata.subject_types_supported.length > 0);
  for (const scope of metadata.scopes_supported as string[])
    assert.match(scope, /^[\x21\x23-\x5b\x5d-\x7e]+$/, 'RFC 6749 3.3 scope syntax');
  // The OAuth metadata (RFC 8414) names the same issuer; the JWKS holds public keys only.
  const oauth = await flow.send(flow.url(OAUTH_METADATA_PATH));
  assert.equal(oauth.status, 200);
  assert.equal(oauth.body.issuer, flow.assent.issuer);
  const jwks = await flow.send(String(metadata.jwks_uri));
  const keys = jwks.body.keys as Record<string, unknown>[];
  assert.ok(keys.length > 0);
  for (const key of keys)
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal(key[secret], undefined, `no private ${secret}`);
}

async function userRejects(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest();
  const { response } = await flow.authorize(request, { decision: 'deny' });
  assert.equal(response.params.error, 'access_denied');
  assert.equal(response.params.code, undefined);
  assert.equal(response.params.state, request.parameters.state);
}

/** A flow that must succeed with `overrides` on the request (and `edit` on its request object). */
const succeedsWith = (overrides: (flow: Fapi2Flow) => Record<string, unknown>, edit?: JwtEdit) => async (flow: Fapi2Flow) => {
  const request = await flow.authorizationRequest(flow.client, overrides(flow));
  await successfulFlow(flow, request, { push: edit ? { requestObject: edit } : {} });
};

/** A request (or request object) that must be refused, with `overrides` on the parameters and `edit` on the object. */
const refusedWith =
  (overrides: (flow: Fapi2Flow) => Record<string, unknown>, edit?: (flow: Fapi2Flow, request: AuthorizationRequest) => JwtEdit) =>
  async (flow: Fapi2Flow) => {
    const request = await flow.authorizationRequest(flow.client, overrides(flow));
    await refused(flow, request, edit ? { requestObject: edit(flow, request) } : {});
  };

/** Sets request object claims (undefined removes one). */
const claims =
  (values: (now: number) => Record<string, unknown>): JwtEdit['claims'] =>
  (payload) => {
    for (const [name, value] of Object.entries(values(Math.floor(Date.now() / 1000)))) {
      if (value === undefined) delete payload[name];
      else payload[name] = value;
    }
  };

async function claimsParameterIdentityClaims(flow: Fapi2Flow) {
  const supported = (flow.discovery.claims_supported as string[]).filter((claim) => ['name', 'preferred_username'].includes(claim));
  assert.ok(supported.length > 0, 'identity claims are supported');
  const request = await flow.authorizationRequest();
  const bound = (request.parameters.claims as { id_token?: Record<string, unknown> } | undefined)?.id_token ?? {};
  const asked = Object.fromEntries([...supported, 'unknown_claim_ignored'].map((claim) => [claim, null]));
  request.parameters.claims = { id_token: { ...bound, ...asked }, userinfo: asked };
  const { idToken, tokens } = await successfulFlow(flow, request);
  for (const claim of supported) assert.ok(idToken[claim], `${claim} in the id token`);
  assert.equal(idToken.unknown_claim_ignored, undefined);
  if (flow.variant.authorization_request_type === 'simple') {
    const userinfo = await flow.callResource(request.client, await flow.resource(request, tokens.access_token!));
    for (const claim of supported) assert.ok(userinfo.body[claim], `${claim} at userinfo`);
  }
}

async function tokenTypeCase(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest();
  const { target } = await successfulFlow(flow, request);
  for (const scheme of [flow.scheme().toLowerCase(), flow.scheme().toUpperCase()]) {
    const answer = await flow.callResource(request.client, target, { scheme });
    assert.equal(answer.status, 200, `scheme ${scheme}: ${answer.text.slice(0, 200)}`);
  }
}

/** A flow whose DPoP proofs (PAR, token, resource) are all bent by `edit`, which must succeed. */
const dpopProofsBent = (edit: JwtEdit) => async (flow: Fapi2Flow) => {
  const request = await flow.authorizationRequest();
  const key = request.dpopKey!;
  const par = flow.url(ENGINE_PATHS.pushed_authorization_request);
  const requestUri = await flow.pushed(request, { dpop: (nonce) => flow.dpopProof(key, 'POST', par, nonce, undefined, edit) });
  const { callback } = await flow.customerAuthorizes(flow.authorizationUrl(request.client, requestUri));
  const response = await flow.authorizationResponse(request.client, callback!);
  const token = flow.url(ENGINE_PATHS.token);
  const answer = await flow.redeem(request, response, { proof: (nonce) => flow.dpopProof(key, 'POST', token, nonce, undefined, edit) });
  assert.equal(answer.status, 200, answer.text);
  const target = await flow.resource(request, String(answer.body.access_token));
  const resource = await flow.callResource(request.client, target, { edit });
  assert.equal(resource.status, 200, resource.text.slice(0, 200));
};

async function mismatchedDpopJkt(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest(flow.client, { dpop_jkt: newDpopKey().thumbprint });
  const answer = await flow.push(request);
  assertOAuthError(answer, ['invalid_request', 'invalid_dpop_proof']);
}

async function tokenWithOtherDpopKey(flow: Fapi2Flow, bindBy: 'proof' | 'dpop_jkt') {
  const parKey = newDpopKey();
  const request = await flow.authorizationRequest(flow.client, bindBy === 'dpop_jkt' ? { dpop_jkt: parKey.thumbprint } : {}, {
    dpopKey: parKey,
  });
  const { response } = await flow.authorize(request, bindBy === 'dpop_jkt' ? { push: { dpop: () => [] } } : {});
  assertOAuthError(await flow.redeem(request, response, { dpopKey: newDpopKey() }), ['invalid_grant', 'invalid_dpop_proof']);
}

async function dpopAuthCodeBinding(flow: Fapi2Flow) {
  const key = newDpopKey();
  const request = await flow.authorizationRequest(flow.client, { dpop_jkt: key.thumbprint }, { dpopKey: key });
  const { tokens } = await successfulFlow(flow, request);
  assert.deepEqual((await flow.introspect(flow.client, tokens.access_token!)).cnf, { jkt: key.thumbprint });
}

/** The nonce or state outside the request (at the authorization endpoint) differs: ignored, or refused. */
const differentOutside = (name: 'nonce' | 'state') => async (flow: Fapi2Flow) => {
  const request = await flow.authorizationRequest();
  const requestUri = await flow.pushed(request);
  const { callback, page } = await flow.customerAuthorizes(
    flow.authorizationUrl(request.client, requestUri, { [name]: `outside-${randomUUID()}` }),
  );
  if (page) return assert.ok(page.status >= 400);
  const response = await flow.authorizationResponse(request.client, callback!);
  if (response.params.error) return assert.ok(REDIRECT_ERRORS.includes(response.params.error));
  if (name === 'state') assert.equal(response.params.state, request.parameters.state, 'the state inside the request is the one returned');
  const answer = await flow.redeem(request, response);
  assert.equal(answer.status, 200);
  assert.equal(
    (await flow.idToken(request.client, String(answer.body.id_token))).nonce,
    request.parameters.nonce,
    'the nonce inside the request',
  );
};

/** A long value (384 characters) comes back intact, or is refused; never truncated. */
const longValue = (name: 'nonce' | 'state') => async (flow: Fapi2Flow) => {
  const value = randomBytes(288).toString('base64url');
  assert.equal(value.length, 384);
  const request = await flow.authorizationRequest(flow.client, { [name]: value });
  const answer = await flow.push(request);
  if (answer.status !== 201) return assertOAuthError(answer, PAR_ERRORS);
  const { callback, page } = await flow.customerAuthorizes(flow.authorizationUrl(request.client, String(answer.body.request_uri)));
  if (page) return assert.ok(page.status >= 400);
  const response = await flow.authorizationResponse(request.client, callback!);
  if (response.params.error) return assert.equal(response.params.error, 'invalid_request');
  if (name === 'state') return assert.equal(response.params.state, value);
  const tokens = await flow.redeem(request, response);
  assert.equal((await flow.idToken(request.client, String(tokens.body.id_token))).nonce, value);
};

async function stateOnlyOutside(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest(flow.client, { state: undefined });
  const requestUri = await flow.pushed(request);
  const { callback, page } = await flow.customerAuthorizes(flow.authorizationUrl(request.client, requestUri, { state: 'outside-only' }));
  if (page) return assert.ok(page.status >= 400);
  const response = await flow.authorizationResponse(request.client, callback!);
  if (response.params.error) return assert.ok(REDIRECT_ERRORS.includes(response.params.error));
  assert.equal(response.params.state, undefined, 'the state outside the request is not used');
  assert.equal(response.params.s_hash, undefined);
  assert.equal((await flow.redeem(request, response)).status, 200);
}

/**
 * The registered redirect_uri with a random path appended (the suite's CreateBadRedirectUriByAppending, which
 * catches a prefix match): refused at PAR, or an error page; the customer goes to neither redirect_uri.
 */
async function registeredRedirectUri(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest(flow.client, { redirect_uri: `${flow.client.tpp.redirectUri}/${randomUUID()}` });
  const answer = await flow.push(request);
  if (answer.status !== 201) return assertOAuthError(answer, ['invalid_request', 'invalid_request_object']);
  const { callback, page } = await flow.customerAuthorizes(flow.authorizationUrl(request.client, String(answer.body.request_uri)));
  assert.equal(callback, undefined, `redirected to ${callback?.href}`);
  assert.ok(page!.status >= 400, `an error page (${page!.status})`);
}

async function withoutPar(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest();
  const url = new URL(flow.url(ENGINE_PATHS.authorization));
  for (const [name, value] of Object.entries(request.parameters))
    url.searchParams.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  const { callback, page } = await flow.customerAuthorizes(url);
  if (page) return assert.ok(page.status >= 400, `an error page (${page.status})`);
  const response = await flow.authorizationResponse(request.client, callback!);
  assert.equal(response.params.code, undefined);
  assert.equal(response.params.error, 'invalid_request');
}

async function redirectUriMissing(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest(flow.client, { redirect_uri: undefined });
  const answer = await flow.push(request);
  if (answer.status !== 201) return assertOAuthError(answer, ['invalid_request', 'invalid_request_object']);
  // Accepted: then the one registered redirect_uri is used, and the code is for it.
  const { callback } = await flow.customerAuthorizes(flow.authorizationUrl(request.client, String(answer.body.request_uri)));
  const response = await flow.authorizationResponse(request.client, callback!);
  if (response.params.code) assert.equal((await flow.redeem(request, response)).status, 200);
}

async function requestObjectWithoutRedirectUri(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest(flow.client, { redirect_uri: undefined });
  await refused(flow, request);
}

async function clientIdInTokenEndpoint(flow: Fapi2Flow) {
  const { request, response } = await approvedCode(flow);
  // Client 1's credentials (its assertion, its certificate) under client 2's client_id.
  const form = {
    grant_type: 'authorization_code',
    code: response.params.code!,
    redirect_uri: request.client.tpp.redirectUri,
    code_verifier: request.codeVerifier,
  };
  const url = flow.url(ENGINE_PATHS.token);
  const answer = await flow.send(url, {
    form: () => ({ ...form, ...flow.clientAuthentication(flow.client), client_id: flow.client2.tpp.clientId }),
    agent: flow.client.tpp.agent,
    dpop: request.dpopKey && ((nonce) => flow.dpopProof(request.dpopKey!, 'POST', url, nonce)),
  });
  assertOAuthError(answer, ['invalid_client', 'invalid_request', 'invalid_grant']);
}

async function holderOfKeyRequired(flow: Fapi2Flow) {
  // TLS: only 1.2 and up, and under 1.2 only the FAPI cipher suites.
  const normal = await flow.tlsHandshake({});
  assert.ok(!(normal instanceof Error), String(normal));
  assert.ok(['TLSv1.2', 'TLSv1.3'].includes(normal.protocol ?? ''));
  const weak = await flow.tlsHandshake({ maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' });
  assert.ok(weak instanceof Error, 'a TLS 1.2 cipher without forward secrecy is refused');
  // The token endpoint without the holder-of-key mechanism.
  const { request, response } = await approvedCode(flow);
  const withoutCertificate = tlsAgent(flow.assent.ca.certPem);
  const answer = flow.dpop
    ? await flow.redeem(request, response, { proof: false })
    : await flow.redeem(request, response, { agent: withoutCertificate });
  assertOAuthError(answer, ['invalid_request', 'invalid_client', 'invalid_grant', 'invalid_dpop_proof']);
}

async function codeBoundToClient(flow: Fapi2Flow) {
  const { request, response } = await approvedCode(flow);
  const stolen = { ...request, client: flow.client2 };
  assertOAuthError(await flow.redeem(stolen, response), ['invalid_grant', 'invalid_client']);
}

async function reuseCode(flow: Fapi2Flow) {
  const { request, response } = await approvedCode(flow);
  const first = await flow.redeem(request, response);
  assert.equal(first.status, 200);
  await sleep(1000);
  assertOAuthError(await flow.redeem(request, response), ['invalid_grant']);
  assert.equal(
    (await flow.introspect(flow.client, String(first.body.access_token))).active,
    false,
    'the tokens of a reused code are revoked',
  );
}

async function expiredCode(flow: Fapi2Flow) {
  const { request, response } = await approvedCode(flow);
  await flow.assent.clock!.advance(61_000);
  assertOAuthError(await flow.redeem(request, response), ['invalid_grant']);
}

/** A client assertion bent by `edit` at the token endpoint: refused with invalid_client (private_key_jwt). */
const assertionRefusedAtToken =
  (edit: (flow: Fapi2Flow) => JwtEdit | 'none', errors = ['invalid_client']) =>
  async (flow: Fapi2Flow) => {
    assert.ok(flow.privateKeyJwt);
    await codeRefused(flow, errors, { assertion: edit(flow) });
  };

/** A client assertion bent by `edit` at PAR. */
const assertionAtPar = (edit: (flow: Fapi2Flow) => JwtEdit, accepted: boolean) => async (flow: Fapi2Flow) => {
  assert.ok(flow.privateKeyJwt);
  const request = await flow.authorizationRequest();
  const answer = await flow.push(request, { assertion: edit(flow) });
  if (accepted) assert.equal(answer.status, 201, answer.text);
  else assertOAuthError(answer, ['invalid_client', 'invalid_request']);
};

const accepted = async (what: string, answer: Promise<HttpAnswer>) => assert.equal((await answer).status, 200, what);
const refusedProof = async (what: string, answer: Promise<HttpAnswer>) => {
  const { status } = await answer;
  assert.ok(status === 400 || status === 401, `${what}: ${status}`);
};
const header = (change: (h: Record<string, unknown>) => void): JwtEdit => ({ header: change });
const claim = (change: (c: Record<string, unknown>) => void): JwtEdit => ({ claims: change });

/** The JWT with `alg` taken out of its (already signed) header. */
function withoutAlg(jwt: string): string {
  const [head, ...rest] = jwt.split('.');
  const parsed = JSON.parse(Buffer.from(head!, 'base64url').toString()) as Record<string, unknown>;
  delete parsed.alg;
  return [base64url(parsed), ...rest].join('.');
}

/**
 * The suite's DPoP checks at the resource (RFC 9449 section 4.3 and 7.1), in its order. Two of its steps
 * are left out, as it leaves them out itself for such a setup: the RS256 proof (only with an RSA DPoP key;
 * this one is P-256) and the default-port form of htu (the test server is not on 443).
 */
async function dpopNegative(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest();
  const { target } = await successfulFlow(flow, request);
  const key = target.key!;
  const call = (edit: JwtEdit, options: Parameters<Fapi2Flow['callResource']>[2] = {}) =>
    flow.callResource(request.client, target, { edit, ...options });
  const { privateKey: otherPrivate } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await accepted('the scheme in capitals', call({}, { scheme: 'DPOP' }));
  await refusedProof(
    'two proofs',
    call(
      {},
      {
        proofs: (nonce) => [
          flow.dpopProof(key, 'GET', target.url, nonce, target.token),
          flow.dpopProof(key, 'GET', target.url, nonce, target.token),
        ],
      },
    ),
  );
  await refusedProof('not a JWT', call({ after: (jwt) => jwt.replaceAll('.', '') }));
  await refusedProof('typ missing', call(header((h) => delete h.typ)));
  await refusedProof('alg missing', call({ after: withoutAlg }));
  await refusedProof('jwk missing', call(header((h) => delete h.jwk)));
  for (const name of ['jti', 'htm', 'htu', 'iat', 'ath']) await refusedProof(`${name} missing`, call(claim((c) => delete c[name])));
  await refusedProof('typ wrong', call(header((h) => (h.typ = 'jwt'))));
  await refusedProof('alg none', call(header((h) => (h.alg = 'none'))));
  await refusedProof('signature broken', call({ after: breakSignature }));
  await refusedProof('private key in jwk', call(header((h) => (h.jwk = key.privateKey.export({ format: 'jwk' })))));
  await refusedProof('htm wrong', call(claim((c) => (c.htm = 'PUT'))));
  await accepted('htu with a query and fragment', call(claim((c) => (c.htu = `${target.url}?query=1#fragment`))));
  await refusedProof('htu another URL', call(claim((c) => (c.htu = flow.url('/another')))));
  // With server nonces (DPOP_NONCES) the nonce bounds a proof's age instead of iat (RFC 9449 section 11.1):
  // the suite then expects these to pass; with nonces off, to fail.
  const nonces = flow.dpopNoncesRequired;
  await (nonces ? accepted : refusedProof)('iat an hour ahead', call(claim((c) => (c.iat = Number(c.iat) + 3600))));
  await (nonces ? accepted : refusedProof)('iat an hour ago', call(claim((c) => (c.iat = Number(c.iat) - 3600))));
  const jti = randomUUID();
  await accepted('a jti used once', call(claim((c) => (c.jti = jti))));
  await refusedProof('the same jti again', call(claim((c) => (c.jti = jti))));
  await refusedProof('ath wrong', call(claim((c) => (c.ath = base64url('another token')))));
  await refusedProof('signed with another key', call({ key: otherPrivate }));
  await accepted('extra claims', call({ header: (h) => (h.extra = 'ignored'), claims: (c) => (c.extra = 'ignored') }));
  const upper = new URL(target.url);
  await accepted(
    'htu scheme and host in capitals',
    call(claim((c) => (c.htu = target.url.replace(`https://${upper.host}`, `HTTPS://${upper.host.toUpperCase()}`)))),
  );
  await refusedProof('no proof', call({}, { noProof: true }));
  await refusedProof('no proof, as Bearer', call({}, { noProof: true, scheme: 'Bearer' }));
  await accepted('a correct proof still works', call({}));
}

async function refreshToken(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest();
  const { tokens } = await successfulFlow(flow, request);
  const refresh = tokens.refresh_token!;
  assert.match(refresh, /^[\x20-\x7e]+$/, 'RFC 6749 A.17 characters');
  const form = { grant_type: 'refresh_token', refresh_token: refresh };
  // Bound to its client: client 2 cannot use it.
  assertOAuthError(await flow.tokenRequest(flow.client2, form, { dpopKey: flow.dpop ? newDpopKey() : undefined }), [
    'invalid_grant',
    'invalid_client',
  ]);
  // Without client authentication (private_key_jwt: no assertion; mTLS: no certificate).
  if (!(flow.variant.client_auth_type === 'mtls' && flow.variant.sender_constrain === 'mtls'))
    assertOAuthError(
      await flow.tokenRequest(flow.client, form, {
        dpopKey: request.dpopKey,
        assertion: 'none',
        ...(flow.privateKeyJwt ? {} : { agent: tlsAgent(flow.assent.ca.certPem) }),
      }),
      ['invalid_client', 'invalid_request', 'invalid_grant'],
    );
  // Without proof of possession.
  assertOAuthError(
    flow.dpop
      ? await flow.tokenRequest(flow.client, form, { proof: false })
      : await flow.tokenRequest(flow.client, form, { agent: tlsAgent(flow.assent.ca.certPem) }),
    ['invalid_client', 'invalid_request', 'invalid_grant', 'invalid_dpop_proof'],
  );
  const refreshed = await flow.tokenRequest(flow.client, form, { dpopKey: request.dpopKey });
  assert.equal(refreshed.status, 200, refreshed.text);
  if (refreshed.body.id_token)
    assert.equal(
      (await flow.idToken(flow.client, String(refreshed.body.id_token))).sub,
      (await flow.idToken(flow.client, tokens.id_token!)).sub,
    );
  // FAPI 2.0 SP 5.3.2.1-9: no rotation (by default, REFRESH_TOKEN_ROTATION), so the token stays good: a
  // TPP that lost a response can refresh again with the one it holds.
  assert.equal(refreshed.body.refresh_token ?? refresh, refresh, 'the refresh token is not rotated');
  assert.equal((await flow.tokenRequest(flow.client, form, { dpopKey: request.dpopKey })).status, 200, 'the same refresh token again');
  const target = await flow.resource(request, String(refreshed.body.access_token));
  assert.equal((await flow.callResource(flow.client, target)).status, 200);
  assert.deepEqual(
    (await flow.introspect(flow.client, String(refreshed.body.access_token))).cnf,
    flow.expectedCnf(flow.client, request.dpopKey),
  );
}

async function nonMatchingIntent(flow: Fapi2Flow) {
  const othersConsent = await flow.createConsent(flow.client2);
  const request = await flow.authorizationRequest(flow.client, {}, { consentId: othersConsent });
  await refused(flow, request, {}, ['invalid_request', 'invalid_request_object', 'invalid_authorization_details', 'access_denied']);
}

async function essentialAcr(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest();
  const bound = (request.parameters.claims as { id_token?: Record<string, unknown> } | undefined)?.id_token ?? {};
  request.parameters.claims = { id_token: { ...bound, acr: { essential: true, value: SCA_ACR } } };
  const { idToken } = await successfulFlow(flow, request);
  assert.equal(idToken.acr, SCA_ACR);
}

async function reusedRequestUriBeforeCompletion(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest();
  const requestUri = await flow.pushed(request);
  const url = flow.authorizationUrl(request.client, requestUri);
  const first = await flow.send(url.href, { agent: tlsAgent(flow.assent.ca.certPem) });
  assert.equal(first.status, 303, `the first visit goes to the login page (${first.status})`);
  const { callback } = await flow.customerAuthorizes(url);
  assert.ok(callback, 'the second visit signs in');
  const response = await flow.authorizationResponse(request.client, callback);
  assert.ok(response.params.code);
}

async function reuseRequestUri(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest();
  const { requestUri } = await flow.authorize(request);
  const { callback, page } = await flow.customerAuthorizes(flow.authorizationUrl(request.client, requestUri));
  if (page) return assert.ok(page.status >= 400);
  const response = await flow.authorizationResponse(request.client, callback!);
  assert.equal(response.params.code, undefined, 'a request_uri is used once');
  assert.ok(['invalid_request_uri', 'invalid_request'].includes(response.params.error ?? ''));
}

async function expiredRequestUri(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest();
  const answer = await flow.push(request);
  assert.ok(Number(answer.body.expires_in) <= PAR_LIFETIME_SECONDS);
  await flow.assent.clock!.advance((Number(answer.body.expires_in) + 1) * 1000);
  const { callback, page } = await flow.customerAuthorizes(flow.authorizationUrl(request.client, String(answer.body.request_uri)));
  if (page) return assert.ok(page.status >= 400);
  const response = await flow.authorizationResponse(request.client, callback!);
  assert.equal(response.params.code, undefined);
  assert.ok(['invalid_request_uri', 'invalid_request'].includes(response.params.error ?? ''));
}

/** Client 1's request_uri at the authorization endpoint under client 2's client_id: an error, never a code. */
async function requestUriOfOtherClient(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest();
  const requestUri = await flow.pushed(request);
  const { callback, page } = await flow.customerAuthorizes(flow.authorizationUrl(flow.client2, requestUri));
  if (page) return assert.ok(page.status >= 400, `an error page (${page.status})`);
  for (const name of ['code', 'response']) assert.equal(callback!.searchParams.get(name), null, `no ${name} on ${callback!.href}`);
  assert.ok(REDIRECT_ERRORS.includes(callback!.searchParams.get('error') ?? ''));
}

async function requestUriInParForm(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest();
  const answer = await flow.push(request, { form: { request_uri: `urn:ietf:params:oauth:request_uri:${randomUUID()}` } });
  assertOAuthError(answer, ['invalid_request', 'invalid_request_object', 'request_uri_not_supported']);
}

/** PAR by PUT: any HTTP error (the suite's EnsureParHTTPError), and no request_uri. */
async function invalidHttpMethod(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest();
  const answer = await flow.push(request, { method: 'PUT' });
  assert.ok(answer.status >= 400 && answer.status < 500, `status ${answer.status}`);
  assert.equal(answer.body.request_uri, undefined);
}

async function withoutDuplicateParameters(flow: Fapi2Flow) {
  const request = await flow.authorizationRequest();
  // successfulFlow sends only client_id and request_uri to the authorization endpoint.
  const { response } = await successfulFlow(flow, request);
  assert.ok(response.params.code);
}

const P = 'fapi2-security-profile-final-';

export const FAPI2_MODULES: Readonly<Record<string, ConformanceModule>> = {
  [`${P}discovery-end-point-verification`]: discovery,
  [`${P}happy-flow`]: happyFlow,
  [`${P}user-rejects-authentication`]: userRejects,
  [`${P}ensure-request-object-with-multiple-aud-succeeds`]: succeedsWith(() => ({}), {
    claims: (payload) => (payload.aud = [payload.aud, 'https://other-server.example']),
  }),
  [`${P}ensure-authorization-request-without-state-success`]: succeedsWith(() => ({ state: undefined })),
  [`${P}ensure-authorization-request-without-nonce-success`]: succeedsWith(() => ({ nonce: undefined })),
  [`${P}ensure-authorization-request-with-64-char-nonce-success`]: succeedsWith(() => ({ nonce: randomBytes(48).toString('base64url') })),
  [`${P}ensure-other-scope-order-succeeds`]: succeedsWith(() => ({ scope: 'accounts openid' })),
  [`${P}test-claims-parameter-identity-claims`]: claimsParameterIdentityClaims,
  [`${P}access-token-type-header-case-sensitivity`]: tokenTypeCase,
  [`${P}ensure-request-object-with-nbf-8-seconds-in-the-future-is-accepted`]: succeedsWith(() => ({}), {
    claims: claims((now) => ({ nbf: now + 8 })),
  }),
  [`${P}check-dpop-proof-nbf-exp`]: dpopProofsBent({ claims: claims((now) => ({ nbf: now, exp: now + 300 })) }),
  [`${P}ensure-dpopproof-with-iat-10seconds-before-succeeds`]: dpopProofsBent({ claims: claims((now) => ({ iat: now - 10 })) }),
  [`${P}ensure-dpopproof-with-iat-10seconds-after-succeeds`]: dpopProofsBent({ claims: claims((now) => ({ iat: now + 10 })) }),
  [`${P}ensure-mismatched-dpop-jkt-fails`]: mismatchedDpopJkt,
  [`${P}ensure-token-endpoint-fails-with-mismatched-dpop-proof-jkt`]: (flow) => tokenWithOtherDpopKey(flow, 'proof'),
  [`${P}ensure-token-endpoint-fails-with-mismatched-dpop-jkt`]: (flow) => tokenWithOtherDpopKey(flow, 'dpop_jkt'),
  [`${P}ensure-dpopproof-at-par-endpoint-binding-success`]: succeedsWith(() => ({})),
  [`${P}ensure-dpop-auth-code-binding-success`]: dpopAuthCodeBinding,
  [`${P}ensure-different-nonce-inside-and-outside-request-object`]: differentOutside('nonce'),
  [`${P}ensure-different-state-inside-and-outside-request-object`]: differentOutside('state'),
  [`${P}ensure-authorization-request-with-long-nonce`]: longValue('nonce'),
  [`${P}ensure-authorization-request-with-long-state`]: longValue('state'),
  [`${P}ensure-request-object-without-exp-fails`]: refusedWith(
    () => ({}),
    () => ({ claims: claims(() => ({ exp: undefined })) }),
  ),
  [`${P}ensure-request-object-without-nbf-fails`]: refusedWith(
    () => ({}),
    () => ({ claims: claims(() => ({ nbf: undefined })) }),
  ),
  [`${P}state-only-outside-request-object-not-used`]: stateOnlyOutside,
  [`${P}ensure-request-object-without-redirect-uri-fails`]: requestObjectWithoutRedirectUri,
  [`${P}ensure-expired-request-object-fails`]: refusedWith(
    () => ({}),
    () => ({ claims: claims((now) => ({ iat: now - 600, nbf: now - 600, exp: now - 300 })) }),
  ),
  [`${P}ensure-request-object-with-bad-aud-fails`]: refusedWith(
    () => ({}),
    () => ({ claims: claims(() => ({ aud: 'https://other-server.example' })) }),
  ),
  [`${P}ensure-request-object-with-exp-over-60-fails`]: refusedWith(
    () => ({}),
    () => ({ claims: claims((now) => ({ exp: now + 61 * 60 })) }),
  ),
  [`${P}ensure-request-object-with-nbf-over-60-fails`]: refusedWith(
    () => ({}),
    () => ({ claims: claims((now) => ({ iat: now - 61 * 60, nbf: now - 61 * 60, exp: now + 300 })) }),
  ),
  [`${P}ensure-signed-request-object-with-RS256-fails`]: refusedWith(
    () => ({}),
    () => ({ header: (h) => (h.alg = 'RS256') }),
  ),
  [`${P}ensure-request-object-signature-algorithm-is-not-none`]: refusedWith(
    () => ({}),
    () => ({ header: (h) => (h.alg = 'none') }),
  ),
  [`${P}ensure-request-object-with-invalid-signature-fails`]: refusedWith(
    () => ({}),
    () => ({ after: breakSignature }),
  ),
  [`${P}ensure-matching-key-in-authorization-request`]: refusedWith(
    () => ({}),
    (flow) => ({ key: flow.client2.key, header: (h) => (h.kid = flow.client2.tpp.kid) }),
  ),
  [`${P}ensure-unsigned-request-at-par-endpoint-fails`]: async (flow) => {
    const request = await flow.authorizationRequest();
    assertOAuthError(await flow.push(request, { requestObject: false }), PAR_ERRORS);
  },
  [`${P}ensure-registered-redirect-uri`]: registeredRedirectUri,
  [`${P}ensure-unsigned-authorization-request-without-using-par-fails`]: withoutPar,
  [`${P}ensure-redirect-uri-in-authorization-request`]: redirectUriMissing,
  [`${P}ensure-response-type-code-idtoken-fails`]: refusedWith(() => ({ response_type: 'code id_token' })),
  [`${P}ensure-response-type-token-fails`]: refusedWith(() => ({ response_type: 'token' })),
  [`${P}ensure-client-id-in-token-endpoint`]: clientIdInTokenEndpoint,
  [`${P}ensure-holder-of-key-required`]: holderOfKeyRequired,
  [`${P}ensure-authorization-code-is-bound-to-client`]: codeBoundToClient,
  [`${P}attempt-reuse-authorization-code-after-one-second`]: reuseCode,
  [`${P}ensure-token-endpoint-fails-with-expired-auth-code`]: expiredCode,
  [`${P}ensure-signed-client-assertion-with-RS256-fails`]: assertionRefusedAtToken(() => ({ header: (h) => (h.alg = 'RS256') })),
  [`${P}ensure-client-assertion-in-token-endpoint`]: assertionRefusedAtToken(() => 'none', ['invalid_client', 'invalid_request']),
  [`${P}ensure-client-assertion-with-exp-is-5-minutes-in-past-fails`]: assertionRefusedAtToken(() => ({
    claims: claims((now) => ({ iat: now - 360, exp: now - 300 })),
  })),
  [`${P}ensure-client-assertion-with-wrong-aud-fails`]: assertionRefusedAtToken(() => ({
    claims: claims(() => ({ aud: 'https://other-server.example' })),
  })),
  [`${P}ensure-client-assertion-with-no-sub-fails`]: assertionRefusedAtToken(() => ({ claims: claims(() => ({ sub: undefined })) })),
  [`${P}dpop-negative-tests`]: dpopNegative,
  [`${P}refresh-token`]: refreshToken,
  [`${P}ensure-server-handles-non-matching-intent-id`]: nonMatchingIntent,
  [`${P}test-essential-acr-sca-claim`]: essentialAcr,
  [`${P}par-ensure-reused-request-uri-prior-to-auth-completion-succeeds`]: reusedRequestUriBeforeCompletion,
  [`${P}par-attempt-reuse-request_uri`]: reuseRequestUri,
  [`${P}par-attempt-to-use-expired-request_uri`]: expiredRequestUri,
  [`${P}par-ensure-jwt-client-assertions-nbf-8-seconds-in-the-future-is-accepted`]: assertionAtPar(
    () => ({ claims: claims((now) => ({ iat: now + 8, nbf: now + 8, exp: now + 68 })) }),
    true,
  ),
  [`${P}par-ensure-jwt-client-assertions-nbf-over-60-seconds-in-the-future-fails`]: assertionAtPar(
    () => ({ claims: claims((now) => ({ iat: now + 65, nbf: now + 65, exp: now + 125 })) }),
    false,
  ),
  [`${P}par-attempt-to-use-request_uri-for-different-client`]: requestUriOfOtherClient,
  [`${P}par-authorization-request-containing-request_uri-form-param`]: requestUriInParForm,
  [`${P}par-attempt-invalid-http-method`]: invalidHttpMethod,
  [`${P}par-ensure-pkce-required`]: refusedWith(() => ({ code_challenge: undefined, code_challenge_method: undefined })),
  [`${P}ensure-pkce-code-verifier-required`]: (flow) =>
    codeRefused(flow, ['invalid_grant'], { form: { code_verifier: undefined } }).then(() => undefined),
  [`${P}incorrect-pkce-code-verifier-rejected`]: (flow) =>
    codeRefused(flow, ['invalid_grant'], { form: { code_verifier: randomBytes(32).toString('base64url') } }).then(() => undefined),
  [`${P}par-plain-pkce-rejected`]: refusedWith(() => ({ code_challenge: randomUUID() + randomUUID(), code_challenge_method: 'plain' })),
  [`${P}par-authorization-request-containing-request_uri`]: refusedWith(
    () => ({}),
    () => ({ claims: claims(() => ({ request_uri: `urn:ietf:params:oauth:request_uri:${randomUUID()}` })) }),
  ),
  [`${P}par-without-duplicate-parameters`]: withoutDuplicateParameters,
  [`${P}par-test-array-as-audience-fails`]: assertionAtPar(
    (flow) => ({ claims: claims(() => ({ aud: [flow.assent.issuer, 'https://other-server.example'] })) }),
    false,
  ),
  [`${P}par-test-par-endpoint-url-as-audience-fails`]: assertionAtPar(
    (flow) => ({ claims: claims(() => ({ aud: flow.url(ENGINE_PATHS.pushed_authorization_request) })) }),
    false,
  ),
  [`${P}par-test-token-endpoint-url-as-audience-fails`]: assertionAtPar(
    (flow) => ({ claims: claims(() => ({ aud: flow.url(ENGINE_PATHS.token) })) }),
    false,
  ),
};

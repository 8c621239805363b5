import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { fetch } from 'undici';
import { DISCOVERY_PATH, ENGINE_PATHS } from '../../src/protocol/routes.ts';
import { SCA_ACR } from '../../src/protocol/acr.ts';
import { tlsAgent } from '../support/assent.ts';
import { type CatalogueModule, conformanceTestName, type Variant, variantLabel } from '../support/conformance.ts';
import {
  accountConsent,
  anonymousAgent,
  backchannel,
  type CallOptions,
  type CibaClient,
  cibaToken,
  Customer,
  CustomerPool,
  type HttpAnswer,
  notificationToken,
  PingReceiver,
  refreshToken,
  registerCibaClient,
  requestObjectClaims,
  rs256Key,
  signRequestObject,
  type Started,
  startRequest,
  unsignedRequestObject,
  userinfo,
  verifiedIdToken,
} from '../support/fapi-ciba.ts';
import { intentClaimsObject } from '../support/ciba.ts';
import { useAssent } from '../support/fixture.ts';
import { CIBA_PLAN, CIBA_VARIANTS } from './plans/fapi-ciba.ts';

/**
 * The suite's fapi-ciba-id1-test-plan, module by module, in each variant the plan runs in here
 * (plans/fapi-ciba.ts): each test does what the module's class does (FAPICIBAID1*.java in the suite's
 * net.openid.conformance.fapiciba) and checks what its conditions check. The suite's UK profile sends no
 * consent (a FIXME in AbstractFAPICIBAID1); Assent needs one, so every request names a consent the client
 * created through the consent API, as a UK TPP does.
 */

const POLL_INTERVAL_SECONDS = 1;

/** CIBA-13 and RFC 6749 5.2: an error object with nothing but error, error_description, error_uri, in plain ASCII. */
function assertErrorObject(answer: HttpAnswer) {
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  const extra = Object.keys(answer.body).filter((key) => !['error', 'error_description', 'error_uri'].includes(key));
  assert.deepEqual(extra, [], `only the error fields: ${JSON.stringify(answer.body)}`);
  const description = answer.body.error_description;
  if (description !== undefined)
    assert.match(String(description), /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/, 'error_description is ASCII without CR, LF, TAB, " or \\');
}

/** The backchannel endpoint refused with `error` and the status CIBA-13 gives it. */
function assertBackchannelError(answer: HttpAnswer, errors: readonly string[]) {
  assertErrorObject(answer);
  const error = String(answer.body.error);
  assert.ok(errors.includes(error), `expected one of ${errors.join(', ')}, got ${JSON.stringify(answer.body)}`);
  const statuses: Record<string, number[]> = {
    invalid_request: [400],
    access_denied: [403],
    invalid_client: [401, 400],
    invalid_binding_message: [400],
  };
  assert.ok(statuses[error]?.includes(answer.status), `status ${answer.status} for ${error}`);
}

/** The token endpoint refused with one of `errors`: 400 (401 allowed for invalid_client), JSON. */
function assertTokenError(answer: HttpAnswer, errors: readonly string[]) {
  assertErrorObject(answer);
  assert.ok(
    errors.includes(String(answer.body.error)),
    `expected one of ${errors.join(', ')}, got ${answer.status} ${JSON.stringify(answer.body)}`,
  );
  assert.ok(answer.status === 400 || (answer.status === 401 && answer.body.error === 'invalid_client'), `status ${answer.status}`);
}

/** ValidateAuthenticationRequestId and friends: an accepted request's answer. */
function assertAccepted(started: Started) {
  const { answer } = started;
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  assert.match(started.authReqId, /^[A-Za-z0-9_-]{22,}$/, 'auth_req_id: at least 128 bits, URL-safe');
  const expiresIn = answer.body.expires_in;
  assert.ok(typeof expiresIn === 'number' && expiresIn > 0 && expiresIn <= 31_536_000, `expires_in ${String(expiresIn)}`);
  assert.equal(answer.body.interval, POLL_INTERVAL_SECONDS);
}

describe('fapi-ciba-id1-test-plan', () => {
  const assent = useAssent({ CIBA_POLL_INTERVAL: String(POLL_INTERVAL_SECONDS), OUTBOUND_ALLOWED_HOSTS: 'localhost' });
  let pings: PingReceiver;
  /** A customer named in requests that must be refused before anyone is asked (never decides anything). */
  let bystander: Customer;
  let customers: CustomerPool;
  before(async () => {
    pings = await PingReceiver.start(assent);
    bystander = await Customer.create(assent);
    customers = new CustomerPool(assent);
  });
  after(() => pings.stop());

  /** Nothing of a refused request reached the customer's device. */
  async function assertNothingAsked(consentId: string) {
    const rows = await assent.db.selectFrom('decoupled_request').select('id').where('consent_id', '=', consentId).execute();
    assert.deepEqual(rows, [], 'no request was recorded for the customer');
  }

  /**
   * The ping of a request whose decision is taken: over TLS to the registered endpoint, JSON, the
   * client_notification_token as bearer, only auth_req_id in the body (verifyNotificationCallback).
   */
  async function assertPinged(started: Started) {
    const ping = await pings.waitFor(started.notificationToken!);
    assert.ok(ping, 'the notification endpoint was pinged');
    assert.equal(ping.authorization, `Bearer ${started.notificationToken}`);
    assert.match(ping.contentType ?? '', /^application\/json/);
    assert.deepEqual(JSON.parse(ping.body), { auth_req_id: started.authReqId });
  }

  /** Polls as the suite does (poll mode), or waits for the ping and then calls once (ping mode); the final answer. */
  async function tokenAfterDecision(client: CibaClient, started: Started): Promise<HttpAnswer> {
    if (client.mode === 'ping') {
      await assertPinged(started);
      return cibaToken(assent, client, started.authReqId);
    }
    for (let attempt = 0; ; attempt++) {
      const answer = await cibaToken(assent, client, started.authReqId);
      if (answer.status === 200 || !['authorization_pending', 'slow_down'].includes(String(answer.body.error)) || attempt === 10)
        return answer;
      await sleep(POLL_INTERVAL_SECONDS * 1000 + 50);
    }
  }

  interface Tokens {
    access_token: string;
    refresh_token?: string;
    id_token: string;
    token_type: string;
    scope?: string;
    expires_in: number;
  }

  /** handleSuccessfulTokenEndpointResponse: 200, no-store, a bearer access token bound to the certificate, a valid ID token. */
  async function assertTokens(
    client: CibaClient,
    started: Started,
    answer: HttpAnswer,
  ): Promise<Tokens & { idClaims: Record<string, unknown> }> {
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.match(answer.headers.get('cache-control') ?? '', /no-store/);
    const tokens = answer.body as unknown as Tokens;
    assert.equal(tokens.token_type.toLowerCase(), 'bearer', 'certificate-bound, so a bearer token type');
    assert.ok(tokens.access_token.length >= 22 && tokens.expires_in > 0);
    const idClaims = await verifiedIdToken(assent, client, tokens.id_token);
    assert.equal(idClaims.openbanking_intent_id, started.consentId, 'the ID token names the consent (OBValidateIdTokenIntentId)');
    // Required in push mode only; when present it must name this request (FAPICIBAValidateIdTokenAuthRequestIdClaims).
    const authReqIdClaim = idClaims['urn:openid:params:jwt:claim:auth_req_id'];
    if (authReqIdClaim !== undefined) assert.equal(authReqIdClaim, started.authReqId);
    assert.equal(idClaims.c_hash, undefined, 'no c_hash in a CIBA ID token');
    assert.equal(idClaims.s_hash, undefined, 'no s_hash in a CIBA ID token');
    assert.equal(await userinfo(assent, tokens.access_token, client.tpp.agent), 200, 'the access token works with its certificate');
    return { ...tokens, idClaims };
  }

  /** A whole authentication: the request accepted, pending while the customer decides, the customer approves, the tokens. */
  async function authenticate(client: CibaClient, customer: Customer, claims: Record<string, unknown> = {}, options: CallOptions = {}) {
    const started = await startRequest(assent, client, customer.username, claims, options);
    assertAccepted(started);
    if (client.mode === 'poll') assertTokenError(await cibaToken(assent, client, started.authReqId), ['authorization_pending']);
    await customer.approve(started.consentId);
    const tokens = await assertTokens(client, started, await tokenAfterDecision(client, started));
    return { started, tokens };
  }

  /** A request object of `client` the module breaks, sent to the backchannel endpoint: refused with invalid_request, nobody asked. */
  async function refusedRequestObject(client: CibaClient, make: (claims: Record<string, unknown>) => Promise<string> | string) {
    const consentId = await accountConsent(client);
    const claims = requestObjectClaims(assent, client, {
      scope: 'openid accounts',
      login_hint: bystander.username,
      binding_message: 'TILL 1',
      claims: intentClaimsObject(consentId),
      ...(client.mode === 'ping' && { client_notification_token: notificationToken() }),
    });
    const answer = await backchannel(assent, client, { request: await make(claims) });
    assertBackchannelError(answer, ['invalid_request']);
    await assertNothingAsked(consentId);
  }

  for (const variant of CIBA_VARIANTS) {
    describe(variantLabel(variant), { concurrency: true }, () => {
      let client1: CibaClient;
      let client2: CibaClient;
      const auth = variant.client_auth_type as 'private_key_jwt' | 'mtls';
      const mode = variant.ciba_mode as 'poll' | 'ping';
      before(async () => {
        [client1, client2] = await Promise.all([
          registerCibaClient(assent, auth, mode, pings),
          registerCibaClient(assent, auth, mode, pings),
        ]);
      });

      /** The module's test in this variant, when the plan runs it here (a module the plan lacks is a mistake). */
      const module = (name: string, body: () => Promise<void>) => {
        const entry: CatalogueModule | undefined = CIBA_PLAN.find((candidate) => candidate.module === name);
        if (!entry || !('variants' in entry)) throw new Error(`${name} is not an applicable module of the plan`);
        if (entry.variants.some((candidate: Variant) => variantLabel(candidate) === variantLabel(variant)))
          test(conformanceTestName(name, variant), body);
      };

      module('fapi-ciba-id1-discovery-end-point-verification', async () => {
        const response = await fetch(`${assent.issuer}${DISCOVERY_PATH}`, { dispatcher: tlsAgent(assent.ca.certPem) });
        assert.equal(response.status, 200);
        const discovery = (await response.json()) as Record<string, unknown>;
        assert.equal(discovery.issuer, assent.issuer);
        assert.equal(discovery.backchannel_authentication_endpoint, `${assent.issuer}${ENGINE_PATHS.backchannel_authentication}`);
        assert.match(String(discovery.backchannel_authentication_endpoint), /^https:/);
        const modes = discovery.backchannel_token_delivery_modes_supported as string[];
        assert.ok(modes.includes(mode), `${mode} is offered`);
        assert.ok(!modes.includes('push'), 'push is not offered (FAPI-CIBA 5.2.2-1)');
        const requestAlgs = discovery.backchannel_authentication_request_signing_alg_values_supported as string[];
        assert.ok(requestAlgs.includes('PS256'));
        assert.ok(
          requestAlgs.every((alg) => ['PS256', 'ES256'].includes(alg)),
          'only FAPI algorithms for request objects',
        );
        assert.ok((discovery.grant_types_supported as string[]).includes('urn:openid:params:grant-type:ciba'));
        assert.ok(!(discovery.backchannel_user_code_parameter_supported as boolean | undefined), 'no user_code');
        assert.ok(
          (discovery.token_endpoint_auth_methods_supported as string[]).includes(auth === 'mtls' ? 'tls_client_auth' : 'private_key_jwt'),
        );
        assert.ok(
          (discovery.token_endpoint_auth_signing_alg_values_supported as string[]).every((alg) => ['PS256', 'ES256'].includes(alg)),
        );
        assert.ok(
          (discovery.id_token_signing_alg_values_supported as string[]).every((alg) => ['PS256', 'ES256'].includes(alg)),
          'no none, no RS256',
        );
        assert.equal(discovery.tls_client_certificate_bound_access_tokens, true);
        assert.ok((discovery.scopes_supported as string[]).includes('openid'));
        assert.ok((discovery.acr_values_supported as string[]).includes(SCA_ACR));
        assert.match(String(discovery.jwks_uri), /^https:/);
      });

      module('fapi-ciba-id1', async () => {
        const customer = await customers.take(2);
        const first = await authenticate(client1, customer);
        assert.ok(first.tokens.refresh_token, 'a refresh token beside the access token');
        // The second client: requested_expiry of 300 s, acr_values (advertised), and in ping mode a long notification token.
        // Its backchannel assertion's aud is the token endpoint (AddPrivateKeyJWTClientAuthenticationToBackchannelRequest).
        const second = await authenticate(
          client2,
          customer,
          {
            requested_expiry: 300,
            acr_values: SCA_ACR,
            ...(mode === 'ping' && { client_notification_token: notificationToken(1024) }),
          },
          { authentication: { assertionAudience: `${assent.issuer}${ENGINE_PATHS.token}` } },
        );
        assert.equal(second.tokens.idClaims.acr, SCA_ACR, 'FAPICIBAValidateIdTokenACRClaims');
        assert.notEqual(second.started.authReqId, first.started.authReqId);
        // client2's access token presented with client1's certificate: refused (RFC 8705 3).
        const stolen = await userinfo(assent, second.tokens.access_token, client1.tpp.agent);
        assert.ok(stolen >= 400 && stolen < 500, `client2's token over client1's certificate: ${stolen}`);
        // client2's auth_req_id again: it was redeemed.
        assertTokenError(await cibaToken(assent, client2, second.started.authReqId), ['invalid_grant']);
      });

      module('fapi-ciba-id1-user-rejects-authentication', async () => {
        const customer = await customers.take();
        const started = await startRequest(assent, client1, customer.username);
        assertAccepted(started);
        await customer.deny(started.consentId);
        const answer = await tokenAfterDecision(client1, started);
        assertTokenError(answer, ['access_denied']);
      });

      module('fapi-ciba-id1-multiple-call-to-token-endpoint', async () => {
        const customer = await customers.take();
        const started = await startRequest(assent, client1, customer.username);
        assertAccepted(started);
        const sent = Date.now();
        const calls = [await cibaToken(assent, client1, started.authReqId), await cibaToken(assent, client1, started.authReqId)];
        for (const call of calls) assertTokenError(call, ['authorization_pending', 'slow_down']);
        // Both answered within the interval, so the server saw the second within it too.
        if (Date.now() - sent < POLL_INTERVAL_SECONDS * 1000)
          assert.equal(calls[1]!.body.error, 'slow_down', 'the second call within the interval');
        if (mode === 'ping') {
          await customer.approve(started.consentId);
          await assertPinged(started);
        } else {
          await sleep(300);
          assert.deepEqual(pings.pingsOf(''), [], 'a poll client is never pinged');
        }
      });

      module('fapi-ciba-id1-auth-req-id-expired', async () => {
        // The suite asks for 10 seconds; 5 keep the run short. The user never answers.
        const expiry = 5;
        const sentAt = Date.now();
        const started = await startRequest(assent, client1, bystander.username, { requested_expiry: expiry });
        const answeredAt = Date.now();
        assertAccepted(started);
        assert.equal(started.answer.body.expires_in, expiry, 'requested_expiry shortens the request');
        // Assent's record of the request ends with the provider's, never after it (or a poll between would hear invalid_grant).
        const provider = await assent.db
          .selectFrom('oidc_model')
          .select('payload')
          .where('model', '=', 'BackchannelAuthenticationRequest')
          .where('id', '=', started.authReqId)
          .executeTakeFirstOrThrow();
        const row = await assent.db
          .selectFrom('decoupled_request')
          .select('expires_at')
          .where('auth_req_id', '=', started.authReqId)
          .executeTakeFirstOrThrow();
        assert.ok(
          row.expires_at.getTime() <= (provider.payload as { exp: number }).exp * 1000,
          'the record ends with the provider request',
        );
        const pending = await cibaToken(assent, client1, started.authReqId);
        // The provider's exp is at least expiry - 1 s after sentAt (whole seconds): answered before that, it was pending.
        if (Date.now() < sentAt + (expiry - 1) * 1000) assertTokenError(pending, ['authorization_pending']);
        else assertTokenError(pending, ['authorization_pending', 'expired_token']);
        await sleep(answeredAt + expiry * 1000 + 300 - Date.now());
        assertTokenError(await cibaToken(assent, client1, started.authReqId), ['expired_token']);
      });

      module('fapi-ciba-id1-ensure-authorization-request-with-binding-message-succeeds', async () => {
        const customer = await customers.take();
        const started = await startRequest(assent, client1, customer.username, { binding_message: '1234' });
        assertAccepted(started);
        assert.equal(await customer.bindingMessageOf(started.consentId), '1234', 'the device shows the binding message');
        await customer.approve(started.consentId);
        await assertTokens(client1, started, await tokenAfterDecision(client1, started));
      });

      module('fapi-ciba-id1-ensure-other-scope-order-succeeds', async () => {
        const { tokens } = await authenticate(client1, await customers.take(), { scope: 'accounts openid' });
        assert.deepEqual(tokens.scope?.split(' ').toSorted(), ['accounts', 'openid']);
      });

      module('fapi-ciba-id1-ensure-requested-expiry-as-string-succeeds', async () => {
        const { started } = await authenticate(client1, await customers.take(), { requested_expiry: '120' });
        const expiresIn = started.answer.body.expires_in as number;
        assert.ok(expiresIn > 0 && expiresIn <= 120, `expires_in ${expiresIn} honours requested_expiry "120"`);
      });

      module('fapi-ciba-id1-ensure-authorization-request-with-potentially-bad-binding-message', async () => {
        // The suite's message: emoji with combining characters, CJK, and 400 characters of Latin.
        const message =
          '1234 \u{1F44D}\u{1F3FF} 品川 Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.';
        const started = await startRequest(assent, client1, bystander.username, { binding_message: message });
        // Either shown as sent, or refused as one the device cannot show: Assent's device shows 40 plain characters.
        assertBackchannelError(started.answer, ['invalid_binding_message']);
        await assertNothingAsked(started.consentId);
      });

      module('fapi-ciba-id1-ensure-request-object-missing-aud-fails', () =>
        refusedRequestObject(client1, (claims) => signRequestObject(client1, { ...claims, aud: undefined })),
      );
      module('fapi-ciba-id1-ensure-request-object-bad-aud-fails', () =>
        refusedRequestObject(client1, (claims) =>
          signRequestObject(client1, { ...claims, aud: 'https://bank.example.com/not-this-server' }),
        ),
      );
      module('fapi-ciba-id1-ensure-request-object-missing-iss-fails', () =>
        refusedRequestObject(client1, (claims) => signRequestObject(client1, { ...claims, iss: undefined })),
      );
      module('fapi-ciba-id1-ensure-request-object-bad-iss-fails', () =>
        refusedRequestObject(client1, (claims) => signRequestObject(client1, { ...claims, iss: client2.tpp.clientId })),
      );
      module('fapi-ciba-id1-ensure-request-object-missing-exp-fails', () =>
        refusedRequestObject(client1, (claims) => signRequestObject(client1, { ...claims, exp: undefined })),
      );
      module('fapi-ciba-id1-ensure-request-object-expired-exp-fails', () =>
        refusedRequestObject(client1, (claims) => signRequestObject(client1, { ...claims, exp: (claims.iat as number) - 600 })),
      );
      module('fapi-ciba-id1-ensure-request-object-exp-is-70-minutes-in-future-fails', () =>
        refusedRequestObject(client1, (claims) => signRequestObject(client1, { ...claims, exp: (claims.iat as number) + 70 * 60 })),
      );
      module('fapi-ciba-id1-ensure-request-object-missing-iat-fails', () =>
        refusedRequestObject(client1, (claims) => signRequestObject(client1, { ...claims, iat: undefined })),
      );
      module('fapi-ciba-id1-ensure-request-object-missing-nbf-fails', () =>
        refusedRequestObject(client1, (claims) => signRequestObject(client1, { ...claims, nbf: undefined })),
      );
      module('fapi-ciba-id1-ensure-request-object-nbf-is-10-minutes-in-future-fails', () =>
        refusedRequestObject(client1, (claims) => signRequestObject(client1, { ...claims, nbf: (claims.iat as number) + 10 * 60 })),
      );
      module('fapi-ciba-id1-ensure-request-object-nbf-is-70-minutes-in-past-fails', () =>
        refusedRequestObject(client1, (claims) => signRequestObject(client1, { ...claims, nbf: (claims.iat as number) - 70 * 60 })),
      );
      module('fapi-ciba-id1-ensure-request-object-missing-jti-fails', () =>
        refusedRequestObject(client1, (claims) => signRequestObject(client1, { ...claims, jti: undefined })),
      );
      module('fapi-ciba-id1-ensure-request-object-signature-algorithm-is-none-fails', () =>
        refusedRequestObject(client1, (claims) => unsignedRequestObject(claims)),
      );
      module('fapi-ciba-id1-ensure-request-object-signature-algorithm-is-bad-fails', () =>
        refusedRequestObject(client1, async (claims) => {
          // InvalidateRequestObjectSignature: the signature's bytes changed, the rest as signed.
          const [header, payload, signature] = (await signRequestObject(client1, claims)).split('.');
          const bytes = Buffer.from(signature!, 'base64url');
          bytes[0]! ^= 0xff;
          return `${header}.${payload}.${bytes.toString('base64url')}`;
        }),
      );
      module('fapi-ciba-id1-ensure-request-object-signature-algorithm-is-RS256-fails', () =>
        refusedRequestObject(client1, async (claims) => signRequestObject(client1, claims, await rs256Key(client1))),
      );
      module('fapi-ciba-id1-ensure-request-object-signed-by-other-client-fails', () =>
        refusedRequestObject(client1, (claims) =>
          signRequestObject(client1, claims, { key: client2.tpp.privateKey, kid: client2.tpp.kid }),
        ),
      );

      module('fapi-ciba-id1-ensure-authorization-request-with-multiple-hints-fails', async () => {
        // AddMultipleHintsToAuthorizationEndpointRequest: login_hint and login_hint_token, and (as the suite sends it) no binding_message.
        const started = await startRequest(assent, client1, 'join@example.com', {
          login_hint_token: 'xxxxxxxxxxxxxxxxxxxx',
          binding_message: undefined,
        });
        assertBackchannelError(started.answer, ['invalid_request']);
        await assertNothingAsked(started.consentId);
      });

      module('fapi-ciba-id1-ensure-wrong-auth-req-id-in-token-endpoint-request', async () => {
        const started = await startRequest(assent, client1, bystander.username);
        assertAccepted(started);
        assertTokenError(await cibaToken(assent, client2, started.authReqId), ['invalid_grant']);
        // Not consumed by the other client's attempt: still pending for its own.
        assertTokenError(await cibaToken(assent, client1, started.authReqId), ['authorization_pending']);
      });

      module('fapi-ciba-id1-ensure-different-client-id-and-issuer-in-backchannel-authorization-request', async () => {
        // client1's signed request, sent as client2 (its client_id) over client1's certificate.
        const started = await startRequest(assent, client1, bystander.username, {}, { override: { client_id: client2.tpp.clientId } });
        assertBackchannelError(started.answer, ['invalid_client']);
        assert.equal(started.answer.status, 401);
        await assertNothingAsked(started.consentId);
      });

      module('fapi-ciba-id1-ensure-wrong-client-id-in-token-endpoint-request', async () => {
        const started = await startRequest(assent, client1, bystander.username);
        assertAccepted(started);
        assertTokenError(await cibaToken(assent, client1, started.authReqId, { override: { client_id: client2.tpp.clientId } }), [
          'invalid_client',
        ]);
      });

      module('fapi-ciba-id1-ensure-wrong-client-id-in-backchannel-authorization-request', async () => {
        // client2's client_id (and iss), with client1's keys and certificate.
        const started = await startRequest(
          assent,
          client1,
          bystander.username,
          { iss: client2.tpp.clientId },
          { override: { client_id: client2.tpp.clientId } },
        );
        assertBackchannelError(started.answer, ['access_denied', 'invalid_request', 'invalid_client']);
        await assertNothingAsked(started.consentId);
      });

      module('fapi-ciba-id1-ensure-without-client-assertion-in-token-endpoint-request', async () => {
        const started = await startRequest(assent, client1, bystander.username);
        assertAccepted(started);
        assertTokenError(await cibaToken(assent, client1, started.authReqId, { authentication: 'client_id_only' }), [
          'invalid_request',
          'invalid_client',
        ]);
      });

      module('fapi-ciba-id1-ensure-without-client-assertion-in-backchannel-authorization-request', async () => {
        const started = await startRequest(assent, client1, bystander.username, {}, { authentication: 'client_id_only' });
        assertBackchannelError(started.answer, ['access_denied', 'invalid_request', 'invalid_client']);
        await assertNothingAsked(started.consentId);
      });

      module('fapi-ciba-id1-ensure-client-assertion-signature-algorithm-in-backchannel-authorization-request-is-RS256-fails', async () => {
        const started = await startRequest(assent, client1, bystander.username, {}, { authentication: 'rs256_assertion' });
        assertBackchannelError(started.answer, ['access_denied', 'invalid_request', 'invalid_client']);
        await assertNothingAsked(started.consentId);
      });

      module('fapi-ciba-id1-ensure-client-assertion-signature-algorithm-in-token-endpoint-request-is-RS256-fails', async () => {
        const started = await startRequest(assent, client1, bystander.username);
        assertAccepted(started);
        assertTokenError(await cibaToken(assent, client1, started.authReqId, { authentication: 'rs256_assertion' }), ['invalid_client']);
      });

      module('fapi-ciba-id1-ensure-client-assertion-with-iss-aud-to-token-endpoint-succeeds', async () => {
        const started = await startRequest(assent, client1, bystander.username);
        assertAccepted(started);
        // The assertion's aud is the issuer, not the token endpoint: accepted, so the request is merely pending.
        assertTokenError(await cibaToken(assent, client1, started.authReqId, { authentication: { assertionAudience: assent.issuer } }), [
          'authorization_pending',
          'slow_down',
        ]);
      });

      /** A ping the TPP's endpoint answers with `answer`: the flow still completes, and Assent pings once. */
      const pingAnswered = async (answer: { status: number; body?: string; location?: string }) => {
        const customer = await customers.take();
        const started = await startRequest(assent, client1, customer.username);
        assertAccepted(started);
        pings.answer(started.notificationToken!, answer);
        await customer.approve(started.consentId);
        await assertTokens(client1, started, await tokenAfterDecision(client1, started));
        return started;
      };

      module('fapi-ciba-id1-ping-backchannel-notification-endpoint-response-has-body', async () => {
        await pingAnswered({ status: 200, body: '{"thanks": true}' });
      });
      module('fapi-ciba-id1-ping-backchannel-notification-endpoint-response-401', async () => {
        await pingAnswered({ status: 401, body: 'unauthorized' });
      });
      module('fapi-ciba-id1-ping-backchannel-notification-endpoint-response-403', async () => {
        await pingAnswered({ status: 403, body: 'forbidden' });
      });
      module('fapi-ciba-id1-ping-with-mtls-ciba-notification-endpoint-response-401-and-require-server-does-not-retry', async () => {
        const started = await pingAnswered({ status: 401, body: 'unauthorized' });
        await sleep(1500);
        assert.equal(pings.pingsOf(started.notificationToken!).length, 1, 'no second call after a 401 (CIBA-10.2)');
      });
      module('fapi-ciba-id1-ping-backchannel-notification-endpoint-return-redirect-request', async () => {
        const started = await pingAnswered({ status: 301, location: `${pings.url}/moved` });
        await sleep(500);
        assert.equal(pings.pingsOf(started.notificationToken!).length, 1, 'the redirect was not followed');
      });

      module('fapi-ciba-id1-ensure-unsigned-backchannel-authorization-request-fails', async () => {
        const consentId = await accountConsent(client1);
        const answer = await backchannel(assent, client1, {
          scope: 'openid accounts',
          login_hint: bystander.username,
          binding_message: 'TILL 1',
          claims: JSON.stringify(intentClaimsObject(consentId)),
          ...(mode === 'ping' && { client_notification_token: notificationToken() }),
        });
        assertBackchannelError(answer, ['invalid_request']);
        await assertNothingAsked(consentId);
      });

      module('fapi-ciba-id1-refresh-token', async () => {
        const customer = await customers.take(2);
        const refreshed = async (client: CibaClient) => {
          const { started, tokens } = await authenticate(client, customer);
          assert.match(tokens.refresh_token ?? '', /^[\x20-\x7E]+$/, 'a refresh token of allowed characters (RFC 6749 A.17)');
          const answer = await refreshToken(assent, client, tokens.refresh_token!);
          assert.equal(answer.status, 200, JSON.stringify(answer.body));
          const next = answer.body as unknown as Tokens;
          assert.equal(next.token_type.toLowerCase(), 'bearer');
          if (next.id_token) {
            const claims = await verifiedIdToken(assent, client, next.id_token);
            assert.equal(claims.sub, tokens.idClaims.sub, 'the refreshed ID token names the same customer');
          }
          assert.equal(
            await userinfo(assent, next.access_token, client.tpp.agent),
            200,
            'the refreshed access token works with its certificate',
          );
          return { started, refresh: next.refresh_token ?? tokens.refresh_token! };
        };
        await refreshed(client1);
        const second = await refreshed(client2);
        // client2's refresh token presented by client1: bound to the client it was issued to.
        assertTokenError(await refreshToken(assent, client1, second.refresh), ['invalid_grant']);
      });

      module('fapi-ciba-id1-ensure-mtls-holder-of-key-required', async () => {
        const { hostname, port } = new URL(assent.issuer);
        const handshake = (options: { minVersion?: 'TLSv1' | 'TLSv1.2'; maxVersion: 'TLSv1.1' | 'TLSv1.2' }) =>
          new Promise<{ protocol: string | null; cipher: string } | Error>((resolve) => {
            const socket = connect({ host: hostname, port: Number(port), ca: assent.ca.certPem, servername: hostname, ...options }, () => {
              resolve({ protocol: socket.getProtocol(), cipher: socket.getCipher().standardName });
              socket.end();
            });
            socket.on('error', (error) => resolve(error));
          });
        assert.ok((await handshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1' })) instanceof Error, 'TLS 1.0 and 1.1 are refused');
        const tls12 = await handshake({ maxVersion: 'TLSv1.2' });
        assert.ok(!(tls12 instanceof Error), `TLS 1.2: ${String(tls12)}`);
        assert.match(tls12.cipher, /^TLS_(ECDHE|DHE)_(RSA|ECDSA)_WITH_AES_(128|256)_GCM_SHA(256|384)$/, 'a FAPI cipher (FAPI1-ADV 8.5)');

        const customer = await customers.take();
        const started = await startRequest(assent, client1, customer.username);
        assertAccepted(started);
        await customer.approve(started.consentId);
        if (mode === 'ping') await assertPinged(started);
        else await sleep(POLL_INTERVAL_SECONDS * 1000 + 50);
        // A valid token request without the client certificate on the connection.
        const bare = await cibaToken(assent, client1, started.authReqId, { agent: anonymousAgent(assent) });
        assert.ok(bare.status === 400 || bare.status === 401, `refused without a certificate: ${bare.status} ${JSON.stringify(bare.body)}`);
        assert.equal(bare.body.access_token, undefined);
        assertErrorObject(bare);
      });
    });
  }
});

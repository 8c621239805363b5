import { fetch } from 'undici';
import { issueCertificate } from '../../src/http/dev-pki.ts';
import { BG_PREFIX } from '../../src/protocol/berlin-group-routes.ts';
import { ENGINE_PATHS } from '../../src/protocol/routes.ts';
import type { TestAssent } from './assent.ts';
import { tlsAgent } from './assent.ts';
import { authoriseConsent } from '../../src/consents/consent-service.ts';
import { postgresAccountDirectory } from '../../src/customers/account-directory.ts';
import {
  ACCOUNT_ACCESS,
  ACCOUNT_ACCESS_V4,
  accountAccessRequest,
  type ApiResponse,
  ConsentApiClient,
  DOMESTIC_PAYMENT,
  DOMESTIC_PAYMENT_V4,
  DOMESTIC_VRP_V4,
  DOMESTIC_VRP,
  domesticPaymentRequest,
  domesticPaymentRequestV4,
  domesticVrpRequestV4,
  domesticVrpRequest,
  FUNDS_CONFIRMATION,
  FUNDS_CONFIRMATION_V4,
  fundsConfirmationRequest,
} from './consent-api.ts';
import { CustomerAgent } from './customer-agent.ts';
import { customerWithAccounts } from './granted-consents.ts';
import { TestResourceServer } from './resource-server.ts';
import { createTestTpp, pushAuthorizationRequest } from './tpp.ts';

/**
 * Seeded fuzzing of every public endpoint with input that must be refused: NUL characters, unpaired
 * surrogates (in values, keys, path segments, query parameters, JWT payloads), JSON nested far too
 * deep, and broken encodings. Every case must get a 4xx in its endpoint's protocol shape and change
 * nothing. test/http/fuzz.test.ts runs a few cases per endpoint; `npm run fuzz` runs thousands.
 */

export type Rng = () => number;

/** mulberry32: small, fast and reproducible from its seed. */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

const POISON = ['\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '\u0000\u0000', 'x\u0000', '\ud83d'] as const;
const FILLER = [
  '',
  'a',
  'GBP',
  '10.00',
  'ReadAccountsBasic',
  '🙂',
  'é',
  ' ',
  '<script>',
  "' or 1=1 --",
  '%00',
  '\\u0000',
  'x'.repeat(300),
] as const;

/** A string carrying at least one NUL or unpaired surrogate, somewhere among ordinary text. */
export function hostileString(rng: Rng): string {
  return `${pick(rng, FILLER)}${pick(rng, POISON)}${pick(rng, FILLER)}`;
}

/** JSON text nested beyond any real request (edge limit 32), up to thousands of levels; text, as JSON.stringify would recurse. */
function deepJson(rng: Rng): string {
  const depth = 33 + Math.floor(rng() * 5000);
  const arrays = rng() < 0.5;
  return arrays ? `${'['.repeat(depth)}"leaf"${']'.repeat(depth)}` : `${'{"k":'.repeat(depth)}"leaf"${'}'.repeat(depth)}`;
}

/** Where a deep subtree goes: a marker value, replaced by the deep text once the rest is serialised. */
const DEEP = '__deep_subtree__';

function serialise(value: unknown, rng: Rng): string {
  const text = JSON.stringify(value);
  return text.includes(`"${DEEP}"`) ? text.replace(`"${DEEP}"`, deepJson(rng)) : text;
}

function base64url(value: string) {
  return Buffer.from(value, 'utf8').toString('base64url');
}

/** An unsigned compact JWS whose payload carries a hostile claim (escaped in JSON, as a signer would). */
export function hostileJwt(rng: Rng, claims: Record<string, unknown> = {}): string {
  const payload = {
    ...claims,
    [pick(rng, ['iss', 'sub', 'jti', 'client_id', 'authorization_details', 'scope'])]: rng() < 0.2 ? DEEP : hostileString(rng),
  };
  return `${base64url(JSON.stringify({ alg: 'PS256', kid: 'k' }))}.${base64url(serialise(payload, rng))}.c2ln`;
}

/** `template` as JSON text with one hostile change: a value, a key, a subtree made deep, or a JWT. */
export function hostileJson(rng: Rng, template: unknown): string {
  const copy = structuredClone(template) as Record<string, unknown>;
  const paths: { parent: Record<string, unknown>; key: string }[] = [];
  const walk = (node: unknown) => {
    if (node === null || typeof node !== 'object') return;
    for (const key of Object.keys(node)) {
      paths.push({ parent: node as Record<string, unknown>, key });
      walk((node as Record<string, unknown>)[key]);
    }
  };
  walk(copy);
  const { parent, key } = paths.length > 0 ? pick(rng, paths) : { parent: copy, key: 'x' };
  const mutation = rng();
  if (mutation < 0.45) parent[key] = hostileString(rng);
  else if (mutation < 0.7) {
    parent[hostileString(rng)] = parent[key];
    delete parent[key];
  } else if (mutation < 0.9) parent[key] = DEEP;
  else parent[key] = hostileJwt(rng);
  return serialise(copy, rng);
}

/** A percent-encoded path segment that decodes to something hostile or does not decode at all. */
function hostileSegment(rng: Rng): string {
  return pick(rng, ['%00', 'a%00b', '%ED%A0%80', '%C0%80', '%FF', '%E2%82', `${crypto.randomUUID()}%00`, '%00'.repeat(20)]);
}

/**
 * A header value a TPP could send that no Berlin Group header accepts: HTTP carries no NUL or surrogate in a
 * header, so these are the malformed ids, URIs and addresses a header can hold.
 */
function hostileHeaderValue(rng: Rng): string {
  return pick(rng, [
    '',
    'not-a-uuid',
    'x'.repeat(300),
    'javascript:alert(1)',
    'http://tpp.example/cb',
    'https://',
    '999.1.1.1',
    "' or 1=1 --",
    '%00',
    '\\u0000',
    `${crypto.randomUUID()}x`,
  ]);
}

/** The headers of a well-formed Berlin Group request. */
const bgHeaders = () => ({
  'x-request-id': crypto.randomUUID(),
  'tpp-redirect-uri': 'https://tpp.example/cb',
  'psu-ip-address': '192.0.2.1',
});

/** Forms and queries are UTF-8 on the wire, where an unpaired surrogate cannot exist (it arrives as U+FFFD): NUL it is. */
function hostileFormValue(rng: Rng): string {
  const value = hostileString(rng);
  return value.includes('\0') ? value : `${value}\0`;
}

function hostileForm(rng: Rng, template: Record<string, string>): URLSearchParams {
  const form = new URLSearchParams(template);
  const keys = Object.keys(template);
  const mutation = rng();
  if (mutation < 0.6 && keys.length > 0) form.set(pick(rng, keys), hostileFormValue(rng));
  else if (mutation < 0.8) form.set(hostileFormValue(rng), 'x');
  else form.set(pick(rng, ['request', 'client_assertion', 'software_statement', 'token', 'code']), hostileJwt(rng, { aud: 'x' }));
  return form;
}

export type Surface = 'oauth' | 'ob' | 'bg' | 'page';

export interface FuzzOutcome {
  status: number;
  contentType: string;
  body: string;
}

export interface FuzzTarget {
  name: string;
  surface: Surface;
  send(rng: Rng): Promise<FuzzOutcome>;
}

/**
 * Whether a refusal is in the surface's protocol shape: the UK OB envelope, OAuth JSON, the Berlin Group's
 * tppMessages (or no body where its OpenAPI file gives the status none: 413, 415), or a page.
 */
export function inProtocolShape(surface: Surface, outcome: FuzzOutcome): boolean {
  // Node's HTTP parser refuses a request line and headers beyond 16 KiB (a very deep JWT in a query or
  // a DPoP header) with 431 before any application code runs: HTTP's own answer, not a protocol's.
  if (outcome.status === 431) return true;
  if (surface === 'page') return outcome.contentType.startsWith('text/html') || (outcome.status >= 300 && outcome.status < 400);
  if (surface === 'bg' && outcome.body === '') return outcome.status === 413 || outcome.status === 415;
  if (!outcome.contentType.includes('json')) return false;
  const body = JSON.parse(outcome.body) as Record<string, unknown>;
  if (surface === 'bg') return Array.isArray(body.tppMessages);
  return surface === 'ob' ? Array.isArray(body.Errors) : typeof body.error === 'string';
}

const outcomeOf = (response: ApiResponse): FuzzOutcome => ({
  status: response.status,
  contentType: response.headers.get('content-type') ?? '',
  body: JSON.stringify(response.body),
});

/** Everything the endpoints need to be reached past authentication, set up before the fuzzing starts. */
export async function fuzzTargets(assent: TestAssent): Promise<FuzzTarget[]> {
  const tpp = await createTestTpp(assent, { auth: 'tls_client_auth' });
  const api = await ConsentApiClient.create(assent, tpp);
  const mtls = tpp.agent;
  const plain = tlsAgent(assent.ca.certPem);
  const browser = new CustomerAgent(plain, assent.issuer);
  const login = await browser.open((await pushAuthorizationRequest(tpp)).url);
  const interaction = login.url.pathname;
  const csrf = CustomerAgent.csrfToken(login);
  const url = (path: string) => new URL(path, assent.issuer);

  // An authorised VRP consent and a bank token: a hostile payment the edge let through would be
  // decided against real limits and leave a vrp_payment row, which the fingerprint would show.
  const vrp = await api.call('POST', DOMESTIC_VRP, { body: domesticVrpRequest(), headers: { 'x-idempotency-key': crypto.randomUUID() } });
  const vrpConsentId = (vrp.body as { Data: { ConsentId: string } }).Data.ConsentId;
  const payer = await customerWithAccounts(assent);
  await authoriseConsent(assent.db, postgresAccountDirectory(assent.db), {
    consentId: vrpConsentId,
    clientId: tpp.clientId,
    customerId: payer.customer.id,
    accountIds: [payer.current.id],
    grantId: `grant-${crypto.randomUUID()}`,
  });
  // An authorised account-access consent, whose accesses the bank records.
  const access = await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() });
  const accessConsentId = (access.body as { Data: { ConsentId: string } }).Data.ConsentId;
  await authoriseConsent(assent.db, postgresAccountDirectory(assent.db), {
    consentId: accessConsentId,
    clientId: tpp.clientId,
    customerId: payer.customer.id,
    accountIds: [payer.current.id],
    grantId: `grant-${crypto.randomUUID()}`,
  });
  const bank = await TestResourceServer.create(assent);
  const vrpPayment = { Data: { InstructedAmount: { Amount: '10.00', Currency: 'GBP' } } };
  const bankPayment = (path: (rng: Rng) => string, body: (rng: Rng) => string) => async (rng: Rng) =>
    outcomeOf(await bank.call('POST', path(rng), { body: body(rng), headers: { 'x-idempotency-key': 'fuzz-vrp-payment' } }));

  async function send(
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: string; agent?: typeof plain },
  ): Promise<FuzzOutcome> {
    const response = await fetch(url(path), {
      method: init.method ?? 'GET',
      headers: init.headers,
      body: init.body,
      dispatcher: init.agent ?? plain,
      redirect: 'manual',
    });
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text() };
  }
  const json =
    (path: string, template: unknown, headers: Record<string, string> = {}, agent = mtls) =>
    (rng: Rng) =>
      send(path, { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers }, body: hostileJson(rng, template) });
  const form =
    (path: string, template: Record<string, string>, agent = mtls) =>
    (rng: Rng) =>
      send(path, {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: hostileForm(rng, template).toString(),
      });
  const consentApi = { authorization: `Bearer ${api.accessToken}`, 'x-fapi-financial-id': 'assent' };
  const pageForm = (action: string, template: Record<string, string>) => async (rng: Rng) => {
    const response = await browser.request(url(`${interaction}/${action}`), {
      form: Object.fromEntries(hostileForm(rng, { csrf_token: csrf, ...template })),
    });
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text() };
  };

  // A Berlin Group TPP known by its QWAC, its first contact (a consent, which makes its row) made now: not the fuzz's change.
  const qwac = tlsAgent(
    assent.ca.certPem,
    await issueCertificate(assent.ca, {
      subject: 'CN=PSDDE-BAFIN-990001,organizationIdentifier=PSDDE-BAFIN-990001,O=Fuzz Finanz GmbH,C=DE',
      usage: 'client',
      psd2: { roles: ['PSP_AI', 'PSP_PI'], ncaName: 'BaFin', ncaId: 'DE-BAFIN' },
    }),
  );
  const bgConsent = {
    access: { accounts: [{ iban: 'DE89370400440532013000' }], balances: [{ iban: 'DE89370400440532013000' }] },
    recurringIndicator: true,
    validUntil: '9999-12-31',
    frequencyPerDay: 4,
    combinedServiceIndicator: false,
  };
  const firstContact = await send(`${BG_PREFIX}/consents`, {
    method: 'POST',
    agent: qwac,
    headers: { 'content-type': 'application/json', ...bgHeaders() },
    body: JSON.stringify(bgConsent),
  });
  if (firstContact.status !== 201) throw new Error(`the Berlin Group first contact failed: ${firstContact.status} ${firstContact.body}`);
  const bgPayment = {
    debtorAccount: { iban: 'DE89370400440532013000' },
    instructedAmount: { currency: 'EUR', amount: '12.34' },
    creditorAccount: { iban: 'NL91ABNA0417164300' },
    creditorName: 'Fuzz B.V.',
  };
  const bgSegment =
    (method: string, suffix = '') =>
    (rng: Rng) =>
      send(`${BG_PREFIX}/consents/${hostileSegment(rng)}${suffix}`, { method, agent: qwac, headers: bgHeaders() });

  return [
    { name: 'POST /v1/consents', surface: 'bg', send: (rng) => json(`${BG_PREFIX}/consents`, bgConsent, bgHeaders(), qwac)(rng) },
    {
      name: 'POST /v1/consents (headers)',
      surface: 'bg',
      send: (rng) =>
        send(`${BG_PREFIX}/consents`, {
          method: 'POST',
          agent: qwac,
          headers: {
            'content-type': 'application/json',
            ...bgHeaders(),
            [pick(rng, ['x-request-id', 'tpp-redirect-uri', 'psu-ip-address', 'tpp-redirect-preferred', 'psu-id'])]:
              hostileHeaderValue(rng),
          },
          body: JSON.stringify(bgConsent),
        }),
    },
    {
      name: 'POST /v1/payments/sepa-credit-transfers',
      surface: 'bg',
      send: (rng) => json(`${BG_PREFIX}/payments/sepa-credit-transfers`, bgPayment, bgHeaders(), qwac)(rng),
    },
    {
      name: 'GET /v1/payments/{product}/{id}',
      surface: 'bg',
      send: (rng) =>
        send(`${BG_PREFIX}/payments/${rng() < 0.5 ? hostileSegment(rng) : 'sepa-credit-transfers'}/${hostileSegment(rng)}`, {
          agent: qwac,
          headers: bgHeaders(),
        }),
    },
    { name: 'POST /v1/consents/{id}/authorisations', surface: 'bg', send: bgSegment('POST', '/authorisations') },
    { name: 'GET /v1/consents/{id}/authorisations/{id}', surface: 'bg', send: bgSegment('GET', `/authorisations/${crypto.randomUUID()}`) },
    { name: 'GET /v1/consents/{id}', surface: 'bg', send: bgSegment('GET') },
    { name: 'GET /v1/consents/{id}/status', surface: 'bg', send: bgSegment('GET', '/status') },
    { name: 'DELETE /v1/consents/{id}', surface: 'bg', send: bgSegment('DELETE') },
    { name: 'POST account-access-consents', surface: 'ob', send: json(ACCOUNT_ACCESS, accountAccessRequest(), consentApi) },
    {
      name: 'POST domestic-payment-consents',
      surface: 'ob',
      send: json(DOMESTIC_PAYMENT, domesticPaymentRequest(), { ...consentApi, 'x-idempotency-key': 'fuzz-key' }),
    },
    { name: 'POST funds-confirmation-consents', surface: 'ob', send: json(FUNDS_CONFIRMATION, fundsConfirmationRequest(), consentApi) },
    { name: 'POST v4.0 account-access-consents', surface: 'ob', send: json(ACCOUNT_ACCESS_V4, accountAccessRequest(), consentApi) },
    {
      name: 'POST v4.0 funds-confirmation-consents',
      surface: 'ob',
      send: json(FUNDS_CONFIRMATION_V4, fundsConfirmationRequest(), consentApi),
    },
    {
      name: 'POST v4.0 domestic-payment-consents',
      surface: 'ob',
      send: json(DOMESTIC_PAYMENT_V4, domesticPaymentRequestV4(), { ...consentApi, 'x-idempotency-key': 'fuzz-v4-key' }),
    },
    {
      name: 'GET v4.0 domestic-payment-consents/{id}',
      surface: 'ob',
      send: (rng) => send(`${DOMESTIC_PAYMENT_V4}/${hostileSegment(rng)}`, { agent: mtls, headers: consentApi }),
    },
    {
      name: 'GET v4.0 account-access-consents/{id}',
      surface: 'ob',
      send: (rng) => send(`${ACCOUNT_ACCESS_V4}/${hostileSegment(rng)}`, { agent: mtls, headers: consentApi }),
    },
    {
      name: 'DELETE v4.0 funds-confirmation-consents/{id}',
      surface: 'ob',
      send: (rng) => send(`${FUNDS_CONFIRMATION_V4}/${hostileSegment(rng)}`, { method: 'DELETE', agent: mtls, headers: consentApi }),
    },
    {
      name: 'POST v4.0 domestic-vrp-consents',
      surface: 'ob',
      send: json(DOMESTIC_VRP_V4, domesticVrpRequestV4(), { ...consentApi, 'x-idempotency-key': 'fuzz-v4-vrp-key' }),
    },
    {
      name: 'GET v4.0 domestic-vrp-consents/{id}',
      surface: 'ob',
      send: (rng) => send(`${DOMESTIC_VRP_V4}/${hostileSegment(rng)}`, { agent: mtls, headers: consentApi }),
    },
    {
      name: 'GET account-access-consents/{id}',
      surface: 'ob',
      send: (rng) => send(`${ACCOUNT_ACCESS}/${hostileSegment(rng)}`, { agent: mtls, headers: consentApi }),
    },
    {
      name: 'DELETE account-access-consents/{id}',
      surface: 'ob',
      send: (rng) => send(`${ACCOUNT_ACCESS}/${hostileSegment(rng)}`, { method: 'DELETE', agent: mtls, headers: consentApi }),
    },
    {
      name: 'POST domestic-vrp-consents',
      surface: 'ob',
      send: json(DOMESTIC_VRP, domesticVrpRequest(), { ...consentApi, 'x-idempotency-key': 'fuzz-vrp-key' }),
    },
    {
      name: 'GET domestic-vrp-consents/{id}',
      surface: 'ob',
      send: (rng) => send(`${DOMESTIC_VRP}/${hostileSegment(rng)}`, { agent: mtls, headers: consentApi }),
    },
    {
      name: 'DELETE domestic-vrp-consents/{id}',
      surface: 'ob',
      send: (rng) => send(`${DOMESTIC_VRP}/${hostileSegment(rng)}`, { method: 'DELETE', agent: mtls, headers: consentApi }),
    },
    {
      name: 'POST vrp funds-confirmation',
      surface: 'ob',
      send: json(
        `${DOMESTIC_VRP}/${vrpConsentId}/funds-confirmation`,
        { Data: { ConsentId: vrpConsentId, Reference: 'fuzz', InstructedAmount: { Amount: '10.00', Currency: 'GBP' } } },
        consentApi,
      ),
    },
    {
      name: 'POST vrp funds-confirmation ({id})',
      surface: 'ob',
      send: (rng) =>
        send(`${DOMESTIC_VRP}/${hostileSegment(rng)}/funds-confirmation`, {
          method: 'POST',
          agent: mtls,
          headers: { ...consentApi, 'content-type': 'application/json' },
          body: JSON.stringify({
            Data: { ConsentId: vrpConsentId, Reference: 'fuzz', InstructedAmount: { Amount: '10.00', Currency: 'GBP' } },
          }),
        }),
    },
    {
      name: 'POST v4.0 vrp funds-confirmation',
      surface: 'ob',
      send: json(
        `${DOMESTIC_VRP_V4}/${vrpConsentId}/funds-confirmation`,
        { Data: { ConsentId: vrpConsentId, InstructedAmount: { Amount: '10.00', Currency: 'GBP' } } },
        consentApi,
      ),
    },
    {
      name: 'POST bank vrp payments',
      surface: 'ob',
      send: bankPayment(
        () => `/bank/vrp-consents/${vrpConsentId}/payments`,
        (rng) => hostileJson(rng, vrpPayment),
      ),
    },
    {
      name: 'POST bank vrp payments ({id})',
      surface: 'ob',
      send: bankPayment(
        (rng) => `/bank/vrp-consents/${hostileSegment(rng)}/payments`,
        () => JSON.stringify(vrpPayment),
      ),
    },
    {
      name: 'POST bank/consents/{id}/accesses',
      surface: 'ob',
      send: bankPayment(
        () => `/bank/consents/${accessConsentId}/accesses`,
        (rng) => hostileJson(rng, { resource: 'balances', accountId: payer.current.id }),
      ),
    },
    {
      name: 'POST bank/consents/{id}/accesses ({id})',
      surface: 'ob',
      send: bankPayment(
        (rng) => `/bank/consents/${hostileSegment(rng)}/accesses`,
        () => JSON.stringify({ resource: 'balances' }),
      ),
    },
    { name: 'GET bank/consents/{id}', surface: 'ob', send: (rng) => send(`/bank/consents/${hostileSegment(rng)}`, {}) },
    {
      name: 'POST bank/payment-consents/{id}/consume',
      surface: 'ob',
      send: (rng) => send(`/bank/payment-consents/${hostileSegment(rng)}/consume`, { method: 'POST' }),
    },
    {
      name: 'POST registration (JSON)',
      surface: 'oauth',
      send: json(
        ENGINE_PATHS.registration,
        {
          software_statement: 'x.y.z',
          redirect_uris: ['https://tpp.example/cb'],
          token_endpoint_auth_method: 'tls_client_auth',
          jwks: { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] },
        },
        {},
        plain,
      ),
    },
    {
      name: 'POST registration (JWT)',
      surface: 'oauth',
      send: (rng) =>
        send(ENGINE_PATHS.registration, {
          method: 'POST',
          headers: { 'content-type': 'application/jwt' },
          body: hostileJwt(rng, { software_statement: 'x.y.z' }),
        }),
    },
    { name: 'POST PAR', surface: 'oauth', send: form('/request', { client_id: tpp.clientId, request: 'x.y.z', scope: 'openid accounts' }) },
    {
      name: 'POST token (authorization_code)',
      surface: 'oauth',
      send: form('/token', {
        client_id: tpp.clientId,
        grant_type: 'authorization_code',
        code: 'abc',
        redirect_uri: tpp.redirectUri,
        code_verifier: 'v'.repeat(43),
      }),
    },
    {
      name: 'POST token (refresh_token)',
      surface: 'oauth',
      send: form('/token', { client_id: tpp.clientId, grant_type: 'refresh_token', refresh_token: 'abc' }),
    },
    {
      name: 'POST token (client_credentials)',
      surface: 'oauth',
      send: form('/token', { client_id: tpp.clientId, grant_type: 'client_credentials', scope: 'accounts' }),
    },
    {
      name: 'POST token (DPoP proof)',
      surface: 'oauth',
      send: (rng) =>
        send('/token', {
          method: 'POST',
          agent: mtls,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            dpop: hostileJwt(rng, { htm: 'POST', htu: `${assent.issuer}/token`, iat: 0 }),
          },
          body: new URLSearchParams({ client_id: tpp.clientId, grant_type: 'client_credentials' }).toString(),
        }),
    },
    { name: 'POST token/introspection', surface: 'oauth', send: form('/token/introspection', { client_id: tpp.clientId, token: 'abc' }) },
    { name: 'POST token/revocation', surface: 'oauth', send: form('/token/revocation', { client_id: tpp.clientId, token: 'abc' }) },
    {
      name: 'GET auth',
      surface: 'page',
      send: (rng) =>
        send(
          `/auth?${hostileForm(rng, { client_id: tpp.clientId, request_uri: 'urn:ietf:params:oauth:request_uri:x', response_type: 'code' })}`,
          {},
        ),
    },
    { name: 'POST interaction login', surface: 'page', send: pageForm('login', { username: 'someone', password: 'secret' }) },
    { name: 'POST interaction otp', surface: 'page', send: pageForm('otp', { code: '123456', payment_digest: 'x' }) },
    { name: 'POST interaction confirm', surface: 'page', send: pageForm('confirm', { account: crypto.randomUUID() }) },
    { name: 'POST interaction abort', surface: 'page', send: pageForm('abort', {}) },
    {
      name: 'GET dashboard callback',
      surface: 'page',
      send: (rng) => send(`/dashboard/callback?${hostileForm(rng, { code: 'abc', state: 'xyz', iss: assent.issuer })}`, {}),
    },
    {
      name: 'POST dashboard revoke',
      surface: 'page',
      send: form(`/dashboard/consents/${crypto.randomUUID()}/revoke`, { csrf_token: 'x' }, plain),
    },
    {
      name: 'POST dashboard stop sharing',
      surface: 'page',
      send: form(`/dashboard/providers/${tpp.clientId}/stop`, { csrf_token: 'x' }, plain),
    },
  ];
}

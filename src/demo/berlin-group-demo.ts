import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { Agent, fetch } from 'undici';
import { ADMIN_OPERATIONS } from '../admin/admin-operations.ts';
import { openTransport } from '../cli/admin-transport.ts';
import type { Config } from '../config.ts';
import { ensureDevPki, issueCertificate } from '../http/dev-pki.ts';
import { PAR_LIFETIME_SECONDS } from '../oidc/provider.ts';
import { BANK_PREFIX } from '../protocol/routes.ts';
import { SCOPE } from '../protocol/scopes.ts';
import type { DemoCallback } from './demo-callback.ts';
import { DEMO_EURO_IBAN } from './seed.ts';

/**
 * `npm run demo -- --berlin-group`: an EU TPP on the Berlin Group NextGenPSD2 API, end to end against a
 * running dev-mode Assent. It has no registration: its QWAC (issued here by the dev CA, with the PSD2 role
 * PSP_AI) is all it shows. It creates an AIS consent naming the demo customer's euro IBAN, pushes an
 * authorization request for scope `AIS:<consentId>` (the OAuth2 SCA approach) authenticating with the QWAC,
 * waits for the customer to approve, redeems the code for a certificate-bound token, reads the consent's
 * status, then plays the bank's resource server: records an account access, counted against
 * frequencyPerDay. Last it terminates the consent (terminatedByTpp) and shows the token dead.
 */

/** A made-up PSD2 authorisation number: the dev CA vouches for it, no national register does. */
const ORGANIZATION_ID = 'PSDDE-BAFIN-DEMO01';

export interface BerlinGroupDemoSettings {
  config: Config;
  issuer: string;
  ca: string;
  redirectUri: string;
  callback: DemoCallback;
  say(line: string): void;
}

const viaAgent =
  (agent: Agent): oidc.CustomFetch =>
  (url, options) =>
    fetch(url, { ...options, dispatcher: agent } as Parameters<typeof fetch>[1]) as unknown as ReturnType<oidc.CustomFetch>;

/** The bank's side: a resource server registered through the admin API, with a DPoP-bound `bank` token. */
async function demoResourceServer(config: Config, issuer: string, agent: Agent) {
  const { privateKey, publicKey } = await generateKeyPair('PS256');
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const create = ADMIN_OPERATIONS.find((operation) => operation.name === 'rs:create')!;
  const transport = await openTransport(config);
  const { client_id: clientId } = (await transport
    .run(create, { name: 'Demo Accounts API', jwks: JSON.stringify({ keys: [{ ...publicJwk, kid, alg: 'PS256', use: 'sig' }] }) })
    .finally(() => transport.close())) as { client_id: string };
  const rs = await oidc.discovery(new URL(issuer), clientId, undefined, oidc.PrivateKeyJwt({ key: privateKey, kid }), {
    [oidc.customFetch]: viaAgent(agent),
  });
  rs[oidc.customFetch] = viaAgent(agent);
  const dpop = oidc.getDPoPHandle(rs, await oidc.randomDPoPKeyPair('ES256'));
  const { access_token: token } = await oidc.clientCredentialsGrant(rs, { scope: SCOPE.bank }, { DPoP: dpop });
  return { rs, dpop, token };
}

export async function berlinGroupDemo({ config, issuer, ca, redirectUri, callback, say }: BerlinGroupDemoSettings): Promise<void> {
  // 1. The QWAC: the dev CA stands in for a qualified trust service provider.
  const pki = await ensureDevPki(config.dataDir);
  const qwac = await issueCertificate(pki.ca, {
    subject: `CN=Kontoblick Demo,organizationIdentifier=${ORGANIZATION_ID},O=Kontoblick Demo GmbH,C=DE`,
    usage: 'client',
    psd2: { roles: ['PSP_AI'], ncaName: 'Bundesanstalt fuer Finanzdienstleistungsaufsicht', ncaId: 'DE-BAFIN' },
  });
  const agent = new Agent({ connect: { ca, cert: qwac.certPem, key: qwac.keyPem } });
  const plain = new Agent({ connect: { ca } });
  const bg = async (method: string, resource: string, body?: unknown) => {
    const response = await fetch(`${issuer}${resource}`, {
      method,
      dispatcher: agent,
      headers: {
        'X-Request-ID': randomUUID(),
        'TPP-Redirect-URI': redirectUri,
        'PSU-IP-Address': '127.0.0.1',
        ...(body !== undefined && { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined };
  };
  say(`QWAC for ${ORGANIZATION_ID} (PSP_AI) from the dev CA; no registration`);

  // 2. The AIS consent, naming the demo customer's euro account.
  const account = [{ iban: DEMO_EURO_IBAN }];
  const created = await bg('POST', '/v1/consents', {
    access: { accounts: account, balances: account, transactions: account },
    recurringIndicator: true,
    validUntil: '9999-12-31',
    frequencyPerDay: 4,
    combinedServiceIndicator: false,
  });
  const consentId = created.body?.consentId;
  if (created.status !== 201 || typeof consentId !== 'string')
    throw new Error(`consent creation failed (${created.status}): ${JSON.stringify(created.body)}`);
  const { _links: links, consentStatus } = created.body!;
  say(`created Berlin Group consent ${consentId} (${String(consentStatus)}); _links:`);
  say(JSON.stringify(links, null, 2));

  // 3. The OAuth2 SCA approach: PAR for scope AIS:<consentId>, PKCE, the QWAC as client authentication.
  const tpp = await oidc.discovery(new URL(issuer), ORGANIZATION_ID, undefined, oidc.TlsClientAuth(), {
    [oidc.customFetch]: viaAgent(agent),
  });
  tpp[oidc.customFetch] = viaAgent(agent);
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const authorizationUrl = await oidc.buildAuthorizationUrlWithPAR(tpp, {
    redirect_uri: redirectUri,
    scope: `AIS:${consentId}`,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
  });
  say(`\nOpen this URL in a browser within ${PAR_LIFETIME_SECONDS} seconds (trust data/tls/ca.pem, or accept the dev certificate):`);
  say(authorizationUrl.href);
  say('\nSign in as the demo customer (data/demo/customer.json; one-time code from `npm run admin -- customer:otp demo`).');
  say('Waiting for the callback...');
  const returned = await callback.received();

  // 4. The code for a token bound to the QWAC; the consent is valid.
  const tokens = await oidc.authorizationCodeGrant(tpp, returned, { pkceCodeVerifier: codeVerifier, expectedState: state });
  say(
    `\ntoken: ${tokens.token_type}, expires in ${String(tokens.expires_in)} s, refresh token ${tokens.refresh_token ? 'issued' : 'none'}`,
  );
  say(`consent status: ${String((await bg('GET', `/v1/consents/${consentId}/status`)).body?.consentStatus)}`);

  // 5. The bank's resource server: introspects the token and records the access it serves (not present: counted).
  const bank = await demoResourceServer(config, issuer, plain);
  say('introspection by the bank:');
  say(JSON.stringify(await oidc.tokenIntrospection(bank.rs, tokens.access_token), null, 2));
  const accessUrl = new URL(`${BANK_PREFIX}/consents/${encodeURIComponent(consentId)}/accesses`, issuer);
  const access = await oidc.fetchProtectedResource(
    bank.rs,
    bank.token,
    accessUrl,
    'POST',
    JSON.stringify({ resource: 'balances' }),
    new Headers({ 'content-type': 'application/json' }),
    { DPoP: bank.dpop },
  );
  say(`account access recorded (${access.status}):`);
  say(JSON.stringify(await access.json(), null, 2));

  // 6. The TPP ends it: terminatedByTpp, and the token is dead at once.
  const ended = await bg('DELETE', `/v1/consents/${consentId}`);
  say(`\nDELETE /v1/consents/${consentId}: ${ended.status}`);
  say(`consent status: ${String((await bg('GET', `/v1/consents/${consentId}/status`)).body?.consentStatus)}`);
  const after = await oidc.tokenIntrospection(bank.rs, tokens.access_token);
  say(`introspection after termination: active ${String(after.active)}`);
  await Promise.all([agent.close(), plain.close()]);
}

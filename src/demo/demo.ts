import { randomUUID, type webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { importJWK, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { Agent, fetch } from 'undici';
import { loadConfig } from '../config.ts';
import { PAR_LIFETIME_SECONDS } from '../oidc/provider.ts';
import { issueDevSoftwareStatement } from '../tpp/dev-directory.ts';
import { CONSENT_API_PATHS, OB_API_PREFIX } from '../protocol/routes.ts';
import { SCOPE_OF } from '../protocol/scopes.ts';
import { INTENT_CLAIM } from '../protocol/consent-types.ts';
import { berlinGroupDemo } from './berlin-group-demo.ts';
import { openDemoCallback } from './demo-callback.ts';
import { orHalt, reachDevServer } from './dev-server.ts';

/**
 * `npm run demo`: a TPP written with openid-client, end to end against a running dev-mode Assent.
 * It onboards with a dev software statement, creates an account-access consent, pushes a signed
 * authorization request binding it, waits on https://localhost:9443/callback for the customer to come
 * back, redeems the code and prints what introspection says about the token.
 * `npm run demo -- --vrp` does the same as a PISP with a sweeping domestic VRP consent (bound through
 * RAR authorization_details), then asks for a funds confirmation with the customer's token.
 * `npm run demo -- --berlin-group` plays an EU TPP on the Berlin Group API instead (berlin-group-demo.ts).
 */

const CALLBACK_PORT = Number(process.env.DEMO_CALLBACK_PORT ?? 9443);
const config = loadConfig();
if (!config.devMode) {
  console.error('npm run demo works in dev mode only (it uses the dev directory and dev CA)');
  process.exit(2);
}
const issuer = config.issuer ?? `https://localhost:${config.port}`;
const tls = (name: string) => readFile(path.join(config.dataDir, 'tls', name), 'utf8');
const ca = await orHalt(reachDevServer({ issuer, dataDir: config.dataDir }));
const say = (line: string) => process.stdout.write(`${line}\n`);
const vrp = process.argv.includes('--vrp');

// 0. The callback listener opens before anything is registered: a port already taken stops the demo with
// nothing left behind.
const callback = await openDemoCallback(CALLBACK_PORT, { cert: await tls('server.pem'), key: await tls('server-key.pem') });
const redirectUri = callback.redirectUri;
if (process.argv.includes('--berlin-group')) {
  await berlinGroupDemo({ config, issuer, ca, redirectUri, callback, say });
  process.exit(0);
}

/** What the demo TPP asks for: reading accounts, or (--vrp) sweeping to a savings account within limits. */
const journey = vrp
  ? {
      role: 'PISP' as const,
      scope: SCOPE_OF.domestic_vrp,
      path: `${OB_API_PREFIX}${CONSENT_API_PATHS.domestic_vrp}`,
      body: {
        Data: {
          ControlParameters: {
            PSUAuthenticationMethods: ['UK.OBIE.SCA'],
            VRPType: ['UK.OBIE.VRPType.Sweeping'],
            ValidToDateTime: new Date(Date.now() + 365 * 86_400_000).toISOString(),
            MaximumIndividualAmount: { Amount: '250.00', Currency: 'GBP' },
            PeriodicLimits: [{ Amount: '1000.00', Currency: 'GBP', PeriodType: 'Month', PeriodAlignment: 'Calendar' }],
          },
          // Sweeping moves money between the customer's own accounts: here to the demo customer's saver.
          Initiation: {
            CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40400422222222', Name: 'Rainy Day Saver' },
          },
        },
        Risk: {},
      },
      binding: (consentId: string) => ({ authorization_details: JSON.stringify([{ type: 'domestic_vrp', consent_id: consentId }]) }),
    }
  : {
      role: 'AISP' as const,
      scope: SCOPE_OF.account_access,
      path: `${OB_API_PREFIX}${CONSENT_API_PATHS.account_access}`,
      body: {
        Data: {
          Permissions: [
            'ReadAccountsDetail',
            'ReadBalances',
            'ReadTransactionsCredits',
            'ReadTransactionsDebits',
            'ReadTransactionsDetail',
          ],
          ExpirationDateTime: new Date(Date.now() + 90 * 86_400_000).toISOString(),
        },
        Risk: {},
      },
      binding: (consentId: string) => ({ claims: JSON.stringify({ id_token: { [INTENT_CLAIM]: { value: consentId, essential: true } } }) }),
    };

// 1. Onboarding: the dev directory signs a statement; the TPP registers with it over mTLS.
const statement = await issueDevSoftwareStatement(config.dataDir, {
  name: 'Assent Demo Budgeting',
  roles: [journey.role],
  redirectUris: [redirectUri],
});
const certificate = { cert: await readFile(statement.certificateFile, 'utf8'), key: await readFile(statement.certificateKeyFile, 'utf8') };
const agent = new Agent({ connect: { ca, ...certificate } });
const viaAgent: oidc.CustomFetch = (url, options) =>
  fetch(url, { ...options, dispatcher: agent } as Parameters<typeof fetch>[1]) as unknown as ReturnType<oidc.CustomFetch>;
const jwk = JSON.parse(await readFile(statement.privateJwkFile, 'utf8')) as JWK;
const signingKey = { key: (await importJWK(jwk, 'PS256')) as webcrypto.CryptoKey, kid: jwk.kid };
const tpp = await oidc.dynamicClientRegistration(
  new URL(issuer),
  {
    software_statement: statement.softwareStatement,
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'PS256',
    id_token_signed_response_alg: 'PS256',
    dpop_bound_access_tokens: true,
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
  },
  oidc.PrivateKeyJwt(signingKey),
  { [oidc.customFetch]: viaAgent },
);
tpp[oidc.customFetch] = viaAgent;
say(`registered client ${tpp.clientMetadata().client_id} (software ${statement.softwareId})`);
const dpop = oidc.getDPoPHandle(tpp, await oidc.randomDPoPKeyPair('ES256'));

// 2. The consent, created through the UK OB API with a DPoP-bound client_credentials token.
const { access_token: apiToken } = await oidc.clientCredentialsGrant(tpp, { scope: journey.scope }, { DPoP: dpop });
const consentUrl = new URL(journey.path, issuer);
const consentHeaders = new Headers({ 'content-type': 'application/json', 'x-idempotency-key': randomUUID() });
const created = await oidc.fetchProtectedResource(tpp, apiToken, consentUrl, 'POST', JSON.stringify(journey.body), consentHeaders, {
  DPoP: dpop,
});
const consent = (await created.json()) as { Data?: { ConsentId?: string; Status?: string } };
const consentId = consent.Data?.ConsentId;
if (!consentId) throw new Error(`consent creation failed (${created.status}): ${JSON.stringify(consent)}`);
say(`created ${vrp ? 'sweeping domestic VRP' : 'account-access'} consent ${consentId} (${consent.Data?.Status})`);

// 3. PAR with a signed request object that binds the consent; PKCE and DPoP as FAPI 2.0 asks.
const codeVerifier = oidc.randomPKCECodeVerifier();
const state = oidc.randomState();
const nonce = oidc.randomNonce();
const jar = await oidc.buildAuthorizationUrlWithJAR(
  tpp,
  {
    redirect_uri: redirectUri,
    scope: `openid ${journey.scope}`,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...journey.binding(consentId),
  },
  signingKey,
);
const authorizationUrl = await oidc.buildAuthorizationUrlWithPAR(tpp, jar.searchParams, { DPoP: dpop });

// 4. Wait for the customer: at most as long as the link lives and a sign-in begun with it may take.
say(`\nOpen this URL in a browser within ${PAR_LIFETIME_SECONDS} seconds (the pushed request expires then, and the link works once;`);
say('trust data/tls/ca.pem, or accept the dev certificate):');
say(authorizationUrl.href);
say(`\nSign in as the demo customer: username and password in ${path.join(config.dataDir, 'demo', 'customer.json')},`);
say('one-time code from `npm run admin -- customer:otp demo`. Waiting for the callback...');
const returned = await callback.received();

// 5. Redeem the code and show what the bank's side learns about the token.
const tokens = await oidc.authorizationCodeGrant(
  tpp,
  returned,
  { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce },
  undefined,
  { DPoP: dpop },
);
say(
  `\nid token: sub ${tokens.claims()?.sub}, acr ${tokens.claims()?.acr}, openbanking_intent_id ${String(tokens.claims()?.openbanking_intent_id)}`,
);
say('introspection of the access token:');
say(JSON.stringify(await oidc.tokenIntrospection(tpp, tokens.access_token), null, 2));
if (vrp) {
  // UK OB VRP funds confirmation: with the customer's token of this consent, a yes or no, never the balance.
  const fundsUrl = new URL(`${journey.path}/${consentId}/funds-confirmation`, issuer);
  const fundsBody = { Data: { ConsentId: consentId, Reference: 'SWEEP', InstructedAmount: { Amount: '100.00', Currency: 'GBP' } } };
  const funds = await oidc.fetchProtectedResource(
    tpp,
    tokens.access_token,
    fundsUrl,
    'POST',
    JSON.stringify(fundsBody),
    new Headers({ 'content-type': 'application/json' }),
    { DPoP: dpop },
  );
  say(`funds confirmation for £100.00 (${funds.status}):`);
  say(JSON.stringify(await funds.json(), null, 2));
}
await agent.close();

import { hash, randomBytes, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { DEMO_CLIENT_ID, DEMO_REDIRECT_URI } from './seed.ts';
import { ENGINE_PATHS } from '../protocol/routes.ts';
import { INTENT_CLAIM } from '../protocol/consent-types.ts';

/**
 * Plays the demo TPP from the command line so the consent API can be tried with curl: it fetches a
 * DPoP-bound client_credentials token (private_key_jwt) and signs DPoP proofs with a key kept under
 * `<dataDir>/demo/`. Dev mode only; a real TPP uses its own OAuth client.
 */

export interface DemoTppSettings {
  issuer: string;
  dataDir: string;
}

async function readJson(file: string): Promise<JWK> {
  return JSON.parse(await readFile(file, 'utf8')) as JWK;
}

/** The demo DPoP key, created on first use and reused so that proofs match the token's binding. */
async function dpopKey(directory: string) {
  const file = path.join(directory, 'tpp-dpop.jwk.json');
  const stored = await readJson(file).catch(async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(privateKey);
    await writeFile(file, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600 });
    return jwk;
  });
  const { d: _private, ...publicJwk } = stored;
  return { privateKey: await importJWK(stored, 'ES256'), publicJwk };
}

/** A DPoP proof for one request, carrying the server's nonce when it asks for one (RFC 9449 section 8). */
export async function dpopProof(
  settings: DemoTppSettings,
  method: string,
  url: string,
  accessToken?: string,
  nonce?: string,
): Promise<string> {
  const { privateKey, publicJwk } = await dpopKey(path.join(settings.dataDir, 'demo'));
  return new SignJWT({
    htm: method.toUpperCase(),
    htu: url,
    ...(accessToken && { ath: hash('sha256', accessToken, 'base64url') }),
    ...(nonce && { nonce }),
  })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk })
    .setJti(randomUUID())
    .setIssuedAt()
    .sign(privateKey);
}

function post(
  url: string,
  ca: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: string; nonce: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      { method: 'POST', ca, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const nonce = response.headers['dpop-nonce'];
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            nonce: typeof nonce === 'string' ? nonce : undefined,
          });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The demo TPP's private_key_jwt client assertion, signed with its key under `<dataDir>/demo/`. */
async function clientAssertion(settings: DemoTppSettings) {
  const signingJwk = await readJson(path.join(settings.dataDir, 'demo', 'tpp-private.jwk.json'));
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'PS256', kid: String(signingJwk.kid) })
    .setIssuer(DEMO_CLIENT_ID)
    .setSubject(DEMO_CLIENT_ID)
    .setAudience(settings.issuer)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('60s')
    .sign(await importJWK(signingJwk, 'PS256'));
  return { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
}

const caOf = (settings: DemoTppSettings) => readFile(path.join(settings.dataDir, 'tls', 'ca.pem'), 'utf8');

/**
 * Pushes a signed authorization request (PAR + JAR + PKCE) binding `consentId` and returns the URL to
 * open in a browser, with the PKCE verifier needed to redeem the code that comes back.
 */
export async function authorizationRequest(settings: DemoTppSettings, consentId: string, scope: string) {
  const signingJwk = await readJson(path.join(settings.dataDir, 'demo', 'tpp-private.jwk.json'));
  const codeVerifier = randomBytes(32).toString('base64url');
  const requestObject = await new SignJWT({
    client_id: DEMO_CLIENT_ID,
    response_type: 'code',
    redirect_uri: DEMO_REDIRECT_URI,
    scope,
    state: randomBytes(16).toString('base64url'),
    nonce: randomBytes(16).toString('base64url'),
    code_challenge: hash('sha256', codeVerifier, 'base64url'),
    code_challenge_method: 'S256',
    claims: { id_token: { [INTENT_CLAIM]: { value: consentId, essential: true } } },
  })
    .setProtectedHeader({ alg: 'PS256', kid: String(signingJwk.kid), typ: 'oauth-authz-req+jwt' })
    .setIssuer(DEMO_CLIENT_ID)
    .setAudience(settings.issuer)
    .setJti(randomUUID())
    .setIssuedAt()
    .setNotBefore('0s')
    .setExpirationTime('5m')
    .sign(await importJWK(signingJwk, 'PS256'));
  const response = await post(
    `${settings.issuer}${ENGINE_PATHS.pushed_authorization_request}`,
    await caOf(settings),
    { 'content-type': 'application/x-www-form-urlencoded' },
    new URLSearchParams({ client_id: DEMO_CLIENT_ID, request: requestObject, ...(await clientAssertion(settings)) }).toString(),
  );
  if (response.status !== 201) throw new Error(`pushed authorization request failed (${response.status}): ${response.body}`);
  const { request_uri: requestUri, expires_in: expiresIn } = JSON.parse(response.body) as { request_uri: string; expires_in: number };
  const url = new URL(ENGINE_PATHS.authorization, settings.issuer);
  url.search = new URLSearchParams({ client_id: DEMO_CLIENT_ID, request_uri: requestUri }).toString();
  return { url, codeVerifier, expiresIn };
}

/** The demo TPP's client_credentials token request at /token, its proof carrying `nonce` if given. */
async function requestToken(settings: DemoTppSettings, scope: string, nonce?: string) {
  const tokenUrl = `${settings.issuer}${ENGINE_PATHS.token}`;
  return post(
    tokenUrl,
    await caOf(settings),
    { 'content-type': 'application/x-www-form-urlencoded', dpop: await dpopProof(settings, 'POST', tokenUrl, undefined, nonce) },
    new URLSearchParams({ grant_type: 'client_credentials', scope, ...(await clientAssertion(settings)) }).toString(),
  );
}

const isNonceChallenge = (response: { status: number; body: string; nonce: string | undefined }) =>
  response.status === 400 && response.nonce !== undefined && response.body.includes('"use_dpop_nonce"');

/** A DPoP-bound token; a use_dpop_nonce challenge is answered once with the nonce it hands out, as a TPP library does. */
export async function clientCredentialsToken(settings: DemoTppSettings, scope: string): Promise<string> {
  let response = await requestToken(settings, scope);
  if (isNonceChallenge(response)) response = await requestToken(settings, scope, response.nonce);
  if (response.status !== 200) throw new Error(`token request failed (${response.status}): ${response.body}`);
  return (JSON.parse(response.body) as { access_token: string }).access_token;
}

/**
 * The server's current DPoP nonce, for a proof signed here and sent by curl; undefined when the server
 * asks for none (DPOP_NONCES=off). Asked at /token with a proof whose nonce no server hands out: the
 * answer is use_dpop_nonce with the current one (nonces on) or invalid_dpop_proof (off), and no token
 * is issued either way.
 */
export async function currentDpopNonce(settings: DemoTppSettings): Promise<string | undefined> {
  const response = await requestToken(settings, 'accounts', 'ask-for-the-current-nonce');
  return isNonceChallenge(response) ? response.nonce : undefined;
}

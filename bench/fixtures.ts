import { randomBytes, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { issueCertificate, type PemPair } from '../src/http/dev-pki.ts';

/** The TPPs the benchmark plays: one authenticating with its certificate, one with private_key_jwt. */
export interface BenchClient {
  clientId: string;
  metadata: ClientMetadata;
  certificate: PemPair;
  signingKey: CryptoKey;
  kid: string;
}

export const REDIRECT_URI = 'https://tpp.example/bench/callback';

async function benchClient(ca: PemPair, clientId: string, auth: 'tls_client_auth' | 'private_key_jwt'): Promise<BenchClient> {
  const subject = `CN=${clientId},O=Bench TPP,C=GB`;
  const certificate = await issueCertificate(ca, { subject, usage: 'client' });
  // ES256: the cheapest FAPI algorithm for the load generator, which signs every assertion and request object.
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const metadata: ClientMetadata = {
    client_id: clientId,
    client_name: `Bench ${clientId}`,
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'client_credentials'],
    response_types: ['code'],
    scope: 'openid accounts',
    jwks: { keys: [{ ...publicJwk, kid, alg: 'ES256', use: 'sig' }] },
    request_object_signing_alg: 'ES256',
    tls_client_certificate_bound_access_tokens: true,
    token_endpoint_auth_method: auth,
    ...(auth === 'tls_client_auth' ? { tls_client_auth_subject_dn: subject } : { token_endpoint_auth_signing_alg: 'ES256' }),
  };
  return { clientId, metadata, certificate, signingKey: privateKey, kid };
}

export async function benchClients(ca: PemPair) {
  return {
    mtls: await benchClient(ca, 'bench-mtls', 'tls_client_auth'),
    pkjwt: await benchClient(ca, 'bench-pkjwt', 'private_key_jwt'),
  };
}

const now = () => Math.floor(Date.now() / 1000);

/** A fresh private_key_jwt client assertion (unique jti: the server rejects replays). */
export function clientAssertion(client: BenchClient, issuer: string) {
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: client.kid })
    .setIssuer(client.clientId)
    .setSubject(client.clientId)
    .setAudience(issuer)
    .setIssuedAt()
    .setExpirationTime(now() + 300)
    .sign(client.signingKey);
}

export interface SignedRequest {
  request: string;
  codeVerifier: string;
}

/** A FAPI 2.0 request object (PKCE S256, state, nonce, exp/nbf), signed by the client. */
export async function signedRequestObject(client: BenchClient, issuer: string): Promise<SignedRequest> {
  const codeVerifier = randomBytes(32).toString('base64url');
  const challenge = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(codeVerifier))).toString('base64url');
  const request = await new SignJWT({
    client_id: client.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid accounts',
    state: randomBytes(16).toString('base64url'),
    nonce: randomBytes(16).toString('base64url'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    jti: randomUUID(),
  })
    .setProtectedHeader({ alg: 'ES256', kid: client.kid, typ: 'oauth-authz-req+jwt' })
    .setIssuer(client.clientId)
    .setAudience(issuer)
    .setIssuedAt()
    .setNotBefore(now())
    .setExpirationTime(now() + 300)
    .sign(client.signingKey);
  return { request, codeVerifier };
}

/** Pre-signs `count` values so signing never runs inside a measured request loop. */
export async function pool<T>(count: number, make: () => Promise<T>): Promise<T[]> {
  const values: T[] = [];
  for (let i = 0; i < count; i += 1) values.push(await make());
  return values;
}

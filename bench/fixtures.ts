import { createHash, generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { issueCertificate, type PemPair } from '../src/http/dev-pki.ts';

/** The TPPs the benchmark plays: one authenticating with its certificate, one with private_key_jwt. */
export interface BenchClient {
  clientId: string;
  metadata: ClientMetadata;
  certificate: PemPair;
  signingKey: KeyObject;
  kid: string;
}

export const REDIRECT_URI = 'https://tpp.example/bench/callback';

async function benchClient(ca: PemPair, clientId: string, auth: 'tls_client_auth' | 'private_key_jwt'): Promise<BenchClient> {
  const subject = `CN=${clientId},O=Bench TPP,C=GB`;
  const certificate = await issueCertificate(ca, { subject, usage: 'client' });
  // ES256: the cheapest FAPI algorithm for the load generator, which signs every assertion and request object.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = publicKey.export({ format: 'jwk' }) as JWK;
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
const encoded = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * An ES256 JWT signed synchronously (node:crypto), so that a load generator's body maker, which must
 * answer at once, can sign one more when its pre-signed pool runs out.
 */
function signedJwt(header: Record<string, string>, claims: Record<string, unknown>, key: KeyObject) {
  const input = `${encoded({ alg: 'ES256', ...header })}.${encoded(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/** A fresh private_key_jwt client assertion (unique jti: the server rejects replays). */
export function clientAssertion(client: BenchClient, issuer: string) {
  const issuedAt = now();
  return signedJwt(
    { kid: client.kid },
    { jti: randomUUID(), iss: client.clientId, sub: client.clientId, aud: issuer, iat: issuedAt, exp: issuedAt + 300 },
    client.signingKey,
  );
}

export interface SignedRequest {
  request: string;
  codeVerifier: string;
}

/** A FAPI 2.0 request object (PKCE S256, state, nonce, exp/nbf), signed by the client. */
export function signedRequestObject(client: BenchClient, issuer: string): SignedRequest {
  const codeVerifier = randomBytes(32).toString('base64url');
  const issuedAt = now();
  const request = signedJwt(
    { kid: client.kid, typ: 'oauth-authz-req+jwt' },
    {
      client_id: client.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid accounts',
      state: randomBytes(16).toString('base64url'),
      nonce: randomBytes(16).toString('base64url'),
      code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
      jti: randomUUID(),
      iss: client.clientId,
      aud: issuer,
      iat: issuedAt,
      nbf: issuedAt,
      exp: issuedAt + 300,
    },
    client.signingKey,
  );
  return { request, codeVerifier };
}

/**
 * Single-use values (assertions, request objects) pre-signed so that signing stays out of a measured
 * loop, and signed on the spot once the `count` run out: a fast server must never be handed a stale or
 * placeholder value that it then rightly refuses (the refusals were counted as the server's errors).
 */
export function pool<T>(count: number, make: () => T): () => T {
  const values = Array.from({ length: count }, make);
  return () => values.pop() ?? make();
}

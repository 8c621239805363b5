import { randomBytes, type webcrypto } from 'node:crypto';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, type JWK } from 'jose';
import * as oidc from 'openid-client';
import type { ClientMetadata } from 'oidc-provider';
import { type Agent, fetch } from 'undici';
import { issueCertificate, type PemPair } from '../../src/http/dev-pki.ts';
import type { Db } from '../../src/db/connect.ts';
import { saveClient } from '../../src/store/clients.ts';
import { insertTpp } from '../../src/tpp/tpp-repository.ts';
import { type TestAssent, tlsAgent } from './assent.ts';
import { CONSENT_SCOPES, SCOPE } from '../../src/protocol/scopes.ts';

export type TestClientAuth = 'private_key_jwt' | 'tls_client_auth';

export interface TestTpp {
  clientId: string;
  redirectUri: string;
  privateKey: webcrypto.CryptoKey;
  kid: string;
  certificate: PemPair;
  /** Presents the TPP's client certificate on every connection. */
  agent: Agent;
  config: oidc.Configuration;
}

/** openid-client's fetch hook, sending through our TLS agent (dev CA, optional client certificate). */
export function fetchVia(agent: Agent): oidc.CustomFetch {
  return (url, options) =>
    fetch(url, { ...options, dispatcher: agent } as Parameters<typeof fetch>[1]) as unknown as ReturnType<oidc.CustomFetch>;
}

/** Registers a FAPI TPP client directly in the database and returns openid-client configured as it. */
export async function createTestTpp(
  assent: Pick<TestAssent, 'issuer' | 'ca' | 'db'>,
  options: { auth?: TestClientAuth; metadata?: Partial<ClientMetadata> } = {},
): Promise<TestTpp> {
  const auth = options.auth ?? 'private_key_jwt';
  const clientId = `tpp-${randomBytes(4).toString('hex')}`;
  const redirectUri = `https://tpp.example/${clientId}/callback`;
  const { privateKey, publicKey } = await generateKeyPair('PS256');
  const publicJwk: JWK = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const subject = `CN=${clientId},O=Test TPP,C=GB`;
  const certificate = await issueCertificate(assent.ca, { subject, usage: 'client' });
  await saveClient(assent.db, {
    client_id: clientId,
    client_name: `Test TPP ${clientId}`,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    scope: [SCOPE.openid, ...CONSENT_SCOPES].join(' '),
    token_endpoint_auth_method: auth,
    jwks: { keys: [{ ...publicJwk, kid, alg: 'PS256', use: 'sig' }] },
    ...(auth === 'private_key_jwt'
      ? { token_endpoint_auth_signing_alg: 'PS256', dpop_bound_access_tokens: true }
      : { tls_client_auth_subject_dn: subject, tls_client_certificate_bound_access_tokens: true }),
    ...options.metadata,
  });
  const agent = tlsAgent(assent.ca.certPem, certificate);
  const clientAuth = auth === 'private_key_jwt' ? oidc.PrivateKeyJwt({ key: privateKey, kid }) : oidc.TlsClientAuth();
  const config = await oidc.discovery(new URL(assent.issuer), clientId, { id_token_signed_response_alg: 'PS256' }, clientAuth, {
    [oidc.customFetch]: fetchVia(agent),
  });
  config[oidc.customFetch] = fetchVia(agent);
  return { clientId, redirectUri, privateKey, kid, certificate, agent, config };
}

/** PAR carrying a signed request object with PKCE; returns the URL to send the customer to. */
export async function pushAuthorizationRequest(tpp: TestTpp, parameters: Record<string, string> = {}, options: oidc.DPoPOptions = {}) {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const jar = await oidc.buildAuthorizationUrlWithJAR(
    tpp.config,
    {
      redirect_uri: tpp.redirectUri,
      scope: 'openid accounts',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...parameters,
    },
    { key: tpp.privateKey, kid: tpp.kid },
  );
  const url = await oidc.buildAuthorizationUrlWithPAR(tpp.config, jar.searchParams, options);
  return { url, codeVerifier, state, nonce };
}

export type PushedRequest = Awaited<ReturnType<typeof pushAuthorizationRequest>>;

/**
 * Redeems the code on the TPP's redirect with the checks of the pushed request (PKCE, state, nonce),
 * presenting the DPoP key the tokens are bound to when there is one.
 */
export function redeemCode(
  tpp: TestTpp,
  callback: URL,
  request: PushedRequest,
  options: { dpop?: oidc.DPoPHandle; idTokenExpected?: boolean } = {},
) {
  const checks = {
    pkceCodeVerifier: request.codeVerifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
    ...(options.idTokenExpected && { idTokenExpected: true }),
  };
  return oidc.authorizationCodeGrant(tpp.config, callback, checks, undefined, options.dpop ? { DPoP: options.dpop } : undefined);
}

/**
 * The onboarding record of an active AISP registered from a test directory, for a client saved without
 * onboarding (createTestTpp saves only the client): what the operator suspends, reinstates and names.
 */
export function insertTestTppRecord(db: Db, clientId: string, clientName: string): Promise<void> {
  return insertTpp(db, {
    client_id: clientId,
    software_id: 'software-1',
    org_id: 'org-1',
    status: 'active',
    status_reason: null,
    client_name: clientName,
    logo_uri: null,
    roles: JSON.stringify(['AISP']),
    org_name: null,
    directory: 'test',
    software_statement: 'unused',
    software_statement_claims: JSON.stringify({}),
  });
}

/** What the TPP's HTTP client saw: each answer's path, status, OAuth error, DPoP-Nonce, and the proof's nonce. */
export interface Exchange {
  path: string;
  status: number;
  error: string | undefined;
  issuedNonce: string | null;
  proofNonce: unknown;
}

/** Records every exchange of the TPP's openid-client configuration, as it retries on its own. */
export function recordExchanges(tpp: TestTpp): Exchange[] {
  const seen: Exchange[] = [];
  const send = tpp.config[oidc.customFetch]!;
  tpp.config[oidc.customFetch] = async (url, options) => {
    const response = await send(url, options);
    const proof = new Headers(options.headers as ConstructorParameters<typeof Headers>[0]).get('dpop');
    const body = (await response
      .clone()
      .json()
      .catch(() => undefined)) as { error?: string } | undefined;
    seen.push({
      path: new URL(url).pathname,
      status: response.status,
      error: body?.error,
      issuedNonce: response.headers.get('dpop-nonce'),
      proofNonce: proof ? decodeJwt(proof).nonce : undefined,
    });
    return response;
  };
  return seen;
}

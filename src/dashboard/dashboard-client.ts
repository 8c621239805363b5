import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Db } from '../db/connect.ts';
import { saveClient } from '../store/clients.ts';
import { findNewestClientKey, insertClientKey, lockClientKeyGeneration } from './client-key-repository.ts';

/**
 * The dashboard is a first-party OpenID client of Assent itself: it signs the customer in through the
 * same authorization endpoint, interaction pages and strong customer authentication as any TPP, under
 * the same FAPI rules (PAR, PKCE S256, private_key_jwt, DPoP-bound tokens).
 */

export const DASHBOARD_CLIENT_ID = 'assent-dashboard';
export const DASHBOARD_CLIENT_ALG = 'ES256';

export function dashboardRedirectUri(issuer: string) {
  return `${issuer}/dashboard/callback`;
}

async function storedKey(db: Db): Promise<JWK | undefined> {
  const row = await findNewestClientKey(db);
  return row?.private_jwk as JWK | undefined;
}

/** One key per database, generated on first start; the advisory lock makes concurrent first starts agree. */
async function ensureClientKey(db: Db): Promise<JWK> {
  const existing = await storedKey(db);
  if (existing) return existing;
  return db.transaction().execute(async (trx) => {
    await lockClientKeyGeneration(trx);
    const raced = await storedKey(trx);
    if (raced) return raced;
    const { privateKey } = await generateKeyPair(DASHBOARD_CLIENT_ALG, { extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(jwk);
    const privateJwk = { ...jwk, kid, alg: DASHBOARD_CLIENT_ALG, use: 'sig' };
    await insertClientKey(trx, kid, privateJwk);
    return privateJwk;
  });
}

function publicPart({ d: _d, ...publicJwk }: JWK): JWK {
  return publicJwk;
}

/**
 * Registers (or refreshes, since the issuer may change between starts) the dashboard client and
 * returns its private key for client assertions.
 */
export async function registerDashboardClient(db: Db, issuer: string): Promise<JWK> {
  const privateJwk = await ensureClientKey(db);
  await saveClient(db, {
    client_id: DASHBOARD_CLIENT_ID,
    client_name: 'Your consent dashboard',
    client_kind: 'first_party',
    redirect_uris: [dashboardRedirectUri(issuer)],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    scope: 'openid',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: DASHBOARD_CLIENT_ALG,
    id_token_signed_response_alg: 'ES256',
    dpop_bound_access_tokens: true,
    jwks: { keys: [publicPart(privateJwk)] },
  });
  return privateJwk;
}

import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/connect.ts';
import type { PendingSignIn, SignedIn } from './openid-sign-in.ts';
import {
  deleteExpired,
  deleteSession,
  findSessionIdsOfCustomer,
  insertLogin,
  insertSession,
  takeLogin,
  touchLiveSession,
} from './session-repository.ts';

/**
 * The dashboard's own sessions, in Postgres so that any instance serves any request. The browser
 * holds a random 256-bit id; the database holds only its SHA-256.
 */

export interface SessionPolicy {
  idleTimeoutSeconds: number;
  sessionLifetimeSeconds: number;
}

export interface DashboardSession {
  customerId: string;
  acr: string | null;
  expiresAt: Date;
}

/** A pending sign-in lives as long as the interaction it waits for (oidc-provider's Interaction TTL). */
const PENDING_SIGN_IN_SECONDS = 600;

const newId = () => randomBytes(32).toString('base64url');
const hashOf = (id: string) => createHash('sha256').update(id).digest('base64url');

/** Remembers the PKCE verifier, state and nonce until the callback; returns the id for the browser. */
export async function rememberPendingSignIn(db: Db, pending: PendingSignIn): Promise<string> {
  const id = newId();
  await insertLogin(db, { idHash: hashOf(id), ...pending, ttlSeconds: PENDING_SIGN_IN_SECONDS });
  return id;
}

export async function takePendingSignIn(db: Db, id: string): Promise<PendingSignIn | undefined> {
  const row = await takeLogin(db, hashOf(id));
  return row && { codeVerifier: row.code_verifier, state: row.state, nonce: row.nonce };
}

/** A fresh id at every sign-in, so an id planted before sign-in is worth nothing after it. */
export async function openSession(db: Db, policy: SessionPolicy, signedIn: SignedIn): Promise<string> {
  const id = newId();
  await insertSession(db, {
    idHash: hashOf(id),
    customerId: signedIn.customerId,
    acr: signedIn.acr ?? null,
    lifetimeSeconds: policy.sessionLifetimeSeconds,
  });
  return id;
}

export async function resumeSession(db: Db, policy: SessionPolicy, id: string): Promise<DashboardSession | undefined> {
  const row = await touchLiveSession(db, hashOf(id), policy.idleTimeoutSeconds);
  return row && { customerId: row.customer_id, acr: row.acr, expiresAt: row.expires_at };
}

export async function closeSession(db: Db, id: string): Promise<void> {
  await deleteSession(db, hashOf(id));
}

export function sweepDashboardSessions(db: Db, policy: SessionPolicy): Promise<number> {
  return deleteExpired(db, policy.idleTimeoutSeconds);
}

/** How many dashboard sessions the customer has open now. */
export async function countSessionsOfCustomer(db: Db, customerId: string): Promise<number> {
  return (await findSessionIdsOfCustomer(db, customerId)).length;
}

import { sql } from 'kysely';
import type { X509Certificate } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Db } from '../db/connect.ts';
import { certificateThumbprint, type ClientCertificateReader } from '../http/client-certificate.ts';
import { isDatabaseUnavailable } from '../protocol/database-unavailable.ts';
import type { BlockedCredentialKind } from '../db/schema.ts';
import { createTurnBatch } from './turn-batch.ts';

/**
 * A TPP's compromised credentials, blocked by an operator (`incident:block-credential`): a client
 * certificate by its SHA-256 thumbprint, refused on every request that presents it, and a key of the
 * client's JWKS by kid, which the client is loaded without (so nothing it signs verifies). Read on
 * every use, never cached: a block holds on every instance at once.
 */

export interface BlockedCredential {
  clientId: string;
  kind: BlockedCredentialKind;
  value: string;
  reason: string;
  blockedBy: string | null;
  createdAt: Date;
}

export async function listBlockedCredentials(db: Db, clientId?: string): Promise<BlockedCredential[]> {
  let query = db.selectFrom('blocked_credential').selectAll().orderBy('created_at');
  if (clientId) query = query.where('client_id', '=', clientId);
  const rows = await query.execute();
  return rows.map((row) => ({
    clientId: row.client_id,
    kind: row.kind,
    value: row.value,
    reason: row.reason,
    blockedBy: row.blocked_by,
    createdAt: row.created_at,
  }));
}

/** Blocks the credential; undefined when it was already blocked. */
export function insertBlockedCredential(
  db: Db,
  credential: { clientId: string; kind: BlockedCredentialKind; value: string; reason: string; blockedBy: string },
) {
  return db
    .insertInto('blocked_credential')
    .values({
      client_id: credential.clientId,
      kind: credential.kind,
      value: credential.value,
      reason: credential.reason,
      blocked_by: credential.blockedBy,
    })
    .onConflict((conflict) => conflict.doNothing())
    .returning('value')
    .executeTakeFirst();
}

/** Lifts the block on the credential (no row deleted: it was not blocked). */
export function deleteBlockedCredential(db: Db, credential: { clientId: string; kind: BlockedCredentialKind; value: string }) {
  return db
    .deleteFrom('blocked_credential')
    .where('client_id', '=', credential.clientId)
    .where('kind', '=', credential.kind)
    .where('value', '=', credential.value)
    .executeTakeFirst();
}

/**
 * An operator's thumbprint in either common spelling: hex (as `openssl x509 -fingerprint -sha256`
 * prints it, colons optional) or base64url; undefined when it is neither.
 */
export function normaliseThumbprint(input: string): string | undefined {
  const hex = input.replaceAll(':', '').toLowerCase();
  if (/^[0-9a-f]{64}$/.test(hex)) return Buffer.from(hex, 'hex').toString('base64url');
  return /^[A-Za-z0-9_-]{43}$/.test(input) ? input : undefined;
}

/** Which of these certificate thumbprints are blocked, in one statement (plain SQL: on every mTLS request, the query builder cost more than the read). */
async function blockedThumbprints(db: Db, thumbprints: string[]): Promise<Map<string, boolean>> {
  const { rows } = await sql<{
    value: string;
  }>`select value from blocked_credential where kind = 'certificate' and value = any(${thumbprints}::text[])`.execute(db);
  return new Map(rows.map((row) => [row.value, true]));
}

/**
 * Without the database nothing a certificate could unlock works either (tokens, consents and grants
 * live there): the request goes on, to be answered 503 in its own surface's shape.
 */
async function blockedOrUnknown(isBlocked: (thumbprint: string) => Promise<boolean>, certificate: X509Certificate): Promise<boolean> {
  try {
    return await isBlocked(certificateThumbprint(certificate));
  } catch (error) {
    if (isDatabaseUnavailable(error)) return false;
    throw error;
  }
}

/**
 * A request presenting a blocked client certificate (`incident:block-credential`) is refused before
 * anything reads it: client authentication, certificate-bound tokens, registration management. The
 * refusal is OAuth's invalid_client, which the TPP already handles as "fix your credentials".
 */
export function refuseBlockedCertificates(deps: { db: Db; presentedCertificate: ClientCertificateReader }): Middleware {
  // The checks of one event-loop round share one statement (turn-batch.ts), each read after its request began.
  const isBlocked = createTurnBatch((thumbprints) => blockedThumbprints(deps.db, thumbprints), false);
  return async (ctx, next) => {
    const presented = deps.presentedCertificate(ctx.req);
    if (presented && (await blockedOrUnknown(isBlocked, presented.certificate))) {
      ctx.status = 401;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: 'invalid_client', error_description: 'the client certificate presented has been blocked by the bank' };
      return;
    }
    await next();
  };
}

import type { Db } from '../db/connect.ts';
import type { BlockedCredentialKind } from '../db/schema.ts';

/**
 * A TPP's compromised credentials, blocked by an operator (`incident:block-credential`): a client
 * certificate by its SHA-256 thumbprint, refused on every request that presents it, and a key of the
 * client's JWKS by kid, which the client is loaded without (so nothing it signs verifies). Read on
 * every use, never cached: a block holds on every instance at once. Certificates: http/blocked-certificate.ts.
 */

/** The kids blocked for a client: its JWKS is served to the provider without them. */
export async function blockedKids(db: Db, clientId: string): Promise<Set<string>> {
  const rows = await db.selectFrom('blocked_credential').select('value').where('kind', '=', 'key').where('client_id', '=', clientId).execute();
  return new Set(rows.map((row) => row.value));
}

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
  return rows.map((row) => ({ clientId: row.client_id, kind: row.kind, value: row.value, reason: row.reason, blockedBy: row.blocked_by, createdAt: row.created_at }));
}

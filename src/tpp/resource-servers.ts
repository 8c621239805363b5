import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { appendAuditEvent } from '../audit/audit-trail.ts';
import type { Db } from '../db/connect.ts';
import { SCOPE } from '../protocol/scopes.ts';
import { destroyClientArtefacts } from '../store/artefacts.ts';
import { deleteClient, listClientsOfKind, lockClientOfKind, saveClient } from '../store/clients.ts';

/**
 * The bank's resource servers are clients of their own kind: they authenticate like TPPs
 * (private_key_jwt or tls_client_auth) and exist to introspect tokens and to call the bank API, for
 * which they get sender-constrained client_credentials tokens of the `bank` scope (DPoP with a key
 * pair, the client certificate with tls_client_auth) and nothing else.
 */

export type ResourceServerAuth = { method: 'private_key_jwt'; jwks: { keys: JWK[] } } | { method: 'tls_client_auth'; subjectDn: string };

export interface NewResourceServer {
  name: string;
  auth: ResourceServerAuth;
  operator: string | null;
}

export interface ResourceServerSummary {
  clientId: string;
  name: string;
  tokenEndpointAuthMethod: string;
  createdAt: Date;
}

const toSummary = (row: { id: string; payload: Record<string, unknown>; created_at: Date }): ResourceServerSummary => ({
  clientId: row.id,
  name: String(row.payload.client_name),
  tokenEndpointAuthMethod: String(row.payload.token_endpoint_auth_method),
  createdAt: row.created_at,
});

export async function listResourceServers(db: Db): Promise<ResourceServerSummary[]> {
  return (await listClientsOfKind(db, 'resource_server')).map(toSummary);
}

/** Removes the resource server's registration and every token it holds: it can neither introspect nor call the bank API. */
export async function disableResourceServer(
  db: Db,
  clientId: string,
  input: { operator: string | null; reason: string },
): Promise<ResourceServerSummary | undefined> {
  return db.transaction().execute(async (trx) => {
    const row = await lockClientOfKind(trx, clientId, 'resource_server');
    if (!row) return undefined;
    const revoked = await destroyClientArtefacts(trx, clientId);
    await deleteClient(trx, clientId);
    await appendAuditEvent(trx, {
      subjectType: 'resource_server',
      subjectId: clientId,
      event: 'resource_server.disabled',
      actor: { kind: 'operator', id: input.operator },
      before: row.payload,
      details: { reason: input.reason, artefacts_revoked: revoked },
    });
    return toSummary(row);
  });
}

export async function createResourceServer(db: Db, input: NewResourceServer): Promise<{ clientId: string }> {
  const clientId = `rs-${randomBytes(8).toString('hex')}`;
  const metadata: ClientMetadata = {
    client_id: clientId,
    client_name: input.name,
    client_kind: 'resource_server',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: SCOPE.bank,
    token_endpoint_auth_method: input.auth.method,
    ...(input.auth.method === 'private_key_jwt'
      ? { jwks: input.auth.jwks, token_endpoint_auth_signing_alg: 'PS256', dpop_bound_access_tokens: true }
      : { tls_client_auth_subject_dn: input.auth.subjectDn, tls_client_certificate_bound_access_tokens: true }),
  };
  await db.transaction().execute(async (trx) => {
    await saveClient(trx, metadata);
    await appendAuditEvent(trx, {
      subjectType: 'resource_server',
      subjectId: clientId,
      event: 'resource_server.created',
      actor: { kind: 'operator', id: input.operator },
      after: { name: input.name, auth: input.auth.method },
    });
  });
  return { clientId };
}

import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { appendAuditEvent } from '../audit/audit-trail.ts';
import type { Db } from '../db/connect.ts';
import { KyselyAdapter } from '../oidc/adapter.ts';

/**
 * The bank's resource servers are clients of their own kind: they authenticate like TPPs
 * (private_key_jwt or tls_client_auth) but hold no grant types; they exist to introspect tokens and
 * to call the bank consent API.
 */

export type ResourceServerAuth =
  | { method: 'private_key_jwt'; jwks: { keys: JWK[] } }
  | { method: 'tls_client_auth'; subjectDn: string };

export interface NewResourceServer {
  name: string;
  auth: ResourceServerAuth;
  operator: string;
}

export async function createResourceServer(db: Db, input: NewResourceServer): Promise<{ clientId: string }> {
  const clientId = `rs-${randomBytes(8).toString('hex')}`;
  const metadata: ClientMetadata = {
    client_id: clientId,
    client_name: input.name,
    client_kind: 'resource_server',
    grant_types: [],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: input.auth.method,
    ...(input.auth.method === 'private_key_jwt'
      ? { jwks: input.auth.jwks, token_endpoint_auth_signing_alg: 'PS256' }
      : { tls_client_auth_subject_dn: input.auth.subjectDn }),
  };
  await db.transaction().execute(async (trx) => {
    await new KyselyAdapter(trx, 'Client').upsert(clientId, metadata as Record<string, unknown>);
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

import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import { appendAuditEvent } from '../audit/audit-trail.ts';
import type { Db } from '../db/connect.ts';
import { SCOPE } from '../protocol/scopes.ts';
import { saveClient } from '../store/clients.ts';

/**
 * The bank's resource servers are clients of their own kind: they authenticate like TPPs
 * (private_key_jwt or tls_client_auth) and exist to introspect tokens and to call the bank API, for
 * which they get sender-constrained client_credentials tokens of the `bank` scope (DPoP with a key
 * pair, the client certificate with tls_client_auth) and nothing else.
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

import { type RawBuilder, sql } from 'kysely';
import type { ClientMetadata } from 'oidc-provider';
import type { Db } from '../db/connect.ts';
import { KyselyAdapter } from './adapter.ts';

/**
 * Clients live in the provider's own Client model, so oidc-provider validates their metadata on every
 * load. Writes outside registration (seeding, operator tools) go through here.
 */
export async function saveClient(db: Db, metadata: ClientMetadata): Promise<void> {
  await new KyselyAdapter(db, 'Client').upsert(metadata.client_id, metadata as Record<string, unknown>);
}

/**
 * Whether the client `clientId` names is stored, as a boolean expression another statement carries: a
 * TPP known by its eIDAS certificate reads its row and whether its client exists in one statement.
 */
export function storedClientExists(clientId: RawBuilder<string>): RawBuilder<boolean> {
  return sql<boolean>`exists (select 1 from oidc_model client where client.model = 'Client' and client.id = ${clientId} and (client.expires_at is null or client.expires_at > now()))`;
}

export async function clientExists(db: Db, clientId: string): Promise<boolean> {
  return (await new KyselyAdapter(db, 'Client').find(clientId)) !== undefined;
}

export async function findClientMetadata(db: Db, clientId: string): Promise<Record<string, unknown> | undefined> {
  return new KyselyAdapter(db, 'Client').find(clientId);
}

export interface StoredClient {
  id: string;
  payload: Record<string, unknown>;
  created_at: Date;
}

const clientsOfKind = (db: Db, kind: string) =>
  db
    .selectFrom('oidc_model')
    .select(['id', 'payload', 'created_at'])
    .where('model', '=', 'Client')
    .where(sql<string>`payload->>'client_kind'`, '=', kind);

/** Clients of one `client_kind` (e.g. resource_server), oldest first. */
export function listClientsOfKind(db: Db, kind: string): Promise<StoredClient[]> {
  return clientsOfKind(db, kind).orderBy('created_at').execute();
}

export function lockClientOfKind(trx: Db, clientId: string, kind: string): Promise<StoredClient | undefined> {
  return clientsOfKind(trx, kind).where('id', '=', clientId).forUpdate().executeTakeFirst();
}

/** Removes a client's registration (its artefacts go through store/artefacts.ts). */
export async function deleteClient(trx: Db, clientId: string): Promise<void> {
  await trx.deleteFrom('oidc_model').where('model', '=', 'Client').where('id', '=', clientId).execute();
}

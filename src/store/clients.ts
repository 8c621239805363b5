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

export async function clientExists(db: Db, clientId: string): Promise<boolean> {
  return (await new KyselyAdapter(db, 'Client').find(clientId)) !== undefined;
}

export async function findClientMetadata(db: Db, clientId: string): Promise<Record<string, unknown> | undefined> {
  return new KyselyAdapter(db, 'Client').find(clientId);
}

import { sql } from 'kysely';
import type { Db } from '../db/connect.ts';

/**
 * Deleting oidc-provider artefacts outside the provider: when a consent ends (its grant) or a TPP is
 * suspended or deregistered (everything issued to it). Destroying a Grant row already deactivates its
 * opaque tokens (the library re-checks the grant); deleting the rows too leaves nothing to find.
 */

/** Removes a grant and everything issued under it, whatever the model. */
export async function destroyGrantEverywhere(db: Db, grantId: string): Promise<void> {
  await db
    .deleteFrom('oidc_model')
    .where((eb) => eb.or([eb('grant_id', '=', grantId), eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)])]))
    .execute();
}

/**
 * Removes every artefact issued to a client (grants, codes, tokens, PAR requests, device and CIBA
 * requests) but not the client itself or its registration access token.
 */
export async function destroyClientArtefacts(db: Db, clientId: string): Promise<number> {
  const result = await db
    .deleteFrom('oidc_model')
    .where('model', 'not in', ['Client', 'RegistrationAccessToken'])
    .where(sql<string>`payload->>'clientId'`, '=', clientId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

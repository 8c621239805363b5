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
 * A consent leaves its grant (revoked, expired, consumed, moved). A grant that also holds other
 * consents (grant management `merge`) loses only this one: its authorization_details entry goes, and
 * so do its access tokens, since they carry the consent; its refresh tokens stay, and refresh into
 * tokens of the consents that remain. A grant left without consents dies with everything under it.
 */
export async function releaseConsentFromGrant(db: Db, grantId: string, consentId: string): Promise<void> {
  const narrowed = await db
    .updateTable('oidc_model')
    .set({
      payload: sql`jsonb_set(payload, '{rar}', coalesce((select jsonb_agg(e) from jsonb_array_elements(payload->'rar') e where e->>'consent_id' is distinct from ${consentId}), '[]'::jsonb))`,
      updated_at: sql`now()`,
    })
    .where('model', '=', 'Grant')
    .where('id', '=', grantId)
    .where(sql<boolean>`exists (select 1 from jsonb_array_elements(coalesce(payload->'rar', '[]'::jsonb)) e where e ? 'consent_id' and e->>'consent_id' <> ${consentId})`)
    .executeTakeFirst();
  if (Number(narrowed.numUpdatedRows) === 0) return destroyGrantEverywhere(db, grantId);
  await db.deleteFrom('oidc_model').where('grant_id', '=', grantId).where('model', '=', 'AccessToken').execute();
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

import { type ExpressionBuilder, sql, type Transaction } from 'kysely';
import type { Db } from '../db/connect.ts';
import type { ConsentType, Database } from '../db/schema.ts';

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
    .where(
      sql<boolean>`exists (select 1 from jsonb_array_elements(coalesce(payload->'rar', '[]'::jsonb)) e where e ? 'consent_id' and e->>'consent_id' <> ${consentId})`,
    )
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

/** What a TPP holds to call with: the artefacts an incident ends. */
export const TOKEN_MODELS = ['AccessToken', 'RefreshToken', 'ClientCredentials'] as const;

/**
 * Removes a client's tokens bound (cnf) to a certificate thumbprint (`x5t#S256`) or a DPoP key
 * thumbprint (`jkt`): a compromised credential takes down everything bound to it. Returns how many.
 */
export async function destroyBoundTokens(db: Db, clientId: string, binding: { 'x5t#S256': string } | { jkt: string }): Promise<number> {
  const [field, value] = Object.entries(binding)[0]!;
  const result = await db
    .deleteFrom('oidc_model')
    .where('model', 'in', TOKEN_MODELS)
    .where(sql<string>`payload->>'clientId'`, '=', clientId)
    .where(sql<string>`payload->>${field}`, '=', value)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface IssuedWindow {
  from: Date;
  to: Date;
  clientId?: string;
  /** Only tokens of grants bound to consents of this type. */
  consentType?: ConsentType;
}

function issuedIn(window: IssuedWindow) {
  return (eb: ExpressionBuilder<Database, 'oidc_model'>) =>
    eb.and([
      eb('model', 'in', [...TOKEN_MODELS, 'AuthorizationCode']),
      eb('created_at', '>=', window.from),
      eb('created_at', '<', window.to),
      ...(window.clientId ? [eb(sql<string>`payload->>'clientId'`, '=', window.clientId)] : []),
      ...(window.consentType
        ? [
            eb(
              'grant_id',
              'in',
              eb
                .selectFrom('consent')
                .select('consent.grant_id')
                .where('consent.type', '=', window.consentType)
                .where('consent.grant_id', 'is not', null),
            ),
          ]
        : []),
    ]);
}

/**
 * Removes (or with `dryRun` only counts) the codes and tokens issued in a time window, optionally of
 * one client or one consent type: the clean-up after a release that issued tokens wrongly. One
 * statement; returns the count per model.
 */
export async function destroyTokensIssuedIn(db: Db, window: IssuedWindow, dryRun: boolean): Promise<Record<string, number>> {
  const rows = dryRun
    ? await db.selectFrom('oidc_model').select('model').where(issuedIn(window)).execute()
    : await db.deleteFrom('oidc_model').where(issuedIn(window)).returning('model').execute();
  const counts: Record<string, number> = {};
  for (const row of rows) counts[row.model] = (counts[row.model] ?? 0) + 1;
  return counts;
}

/** Tokens living under these grants (counted before they are destroyed with them). */
export async function countTokensOfGrants(db: Db, grantIds: string[]): Promise<number> {
  if (grantIds.length === 0) return 0;
  const row = await db
    .selectFrom('oidc_model')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('model', 'in', TOKEN_MODELS)
    .where('grant_id', 'in', grantIds)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Ends a customer's provider sessions (SSO cookies): nobody is signed in as them any more. */
export async function destroyCustomerSessions(db: Db, customerId: string): Promise<number> {
  const result = await db
    .deleteFrom('oidc_model')
    .where('model', '=', 'Session')
    .where(sql<string>`payload->>'accountId'`, '=', customerId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * How far back before the grace period the orphan sweep looks. A grant becomes an orphan only by never
 * being held (a consent that lets go of its grant narrows or destroys it itself, releaseConsentFromGrant),
 * so each grant needs checking once, when its grace period ends; a sweep runs every minute, and a day
 * covers any outage of the sweepers shorter than that. The window keeps each run to the grants created in
 * it (index oidc_model_grant_created) rather than every grant stored.
 */
const ORPHAN_WINDOW_SECONDS = 24 * 3600;

/**
 * Up to `limit` consent-bound grants (their authorization details name a consent) older than
 * `graceSeconds`, but within ORPHAN_WINDOW_SECONDS of it, that no consent holds, locked, skipping rows
 * another sweeper holds; their ids.
 */
export async function lockOrphanConsentGrants(trx: Transaction<Database>, graceSeconds: number, limit: number): Promise<string[]> {
  const rows = await trx
    .selectFrom('oidc_model as candidate')
    .select('candidate.id')
    .where('candidate.model', '=', 'Grant')
    .where('candidate.created_at', '<', sql<Date>`now() - make_interval(secs => ${graceSeconds})`)
    .where('candidate.created_at', '>=', sql<Date>`now() - make_interval(secs => ${graceSeconds + ORPHAN_WINDOW_SECONDS})`)
    .where(sql<boolean>`jsonb_path_exists(candidate.payload, '$.rar[*].consent_id')`)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('consent').select('consent.id').whereRef('consent.grant_id', '=', 'candidate.id'))),
    )
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
  return rows.map((row) => row.id);
}

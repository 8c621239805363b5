import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here, never edit once shipped.

export async function up(db: Kysely<any>): Promise<void> {
  // Tokens issued under a consent were bound to the customer's browser session (the engine's
  // `expiresWithSession`): each refresh checked that the session still existed and still held this
  // grant, so they died when the session ended, at sign-out or at the next approval in that browser,
  // while the consent read Authorised. From now on a consent's tokens live with their grant; the
  // binding comes off the ones already issued, which revives those whose session has gone.
  await sql`
    update oidc_model set payload = payload - 'expiresWithSession'
    where model in ('AccessToken', 'RefreshToken', 'AuthorizationCode')
      and payload ? 'expiresWithSession'
      and grant_id in (select grant_id from consent where grant_id is not null)`.execute(db);

  // A live consent's grant and refresh tokens were cut to REFRESH_TOKEN_TTL (90 days by default), so a
  // longer or open-ended consent (a VRP mandate) was left Authorised without a working grant. They now
  // last until the consent's end: the latest expiry among the grant's live consents, or, when one of
  // them has none, a century (the application's OPEN_ENDED_GRANT_SECONDS).
  await sql`
    with ends as (
      select c.grant_id,
             case when bool_or(c.expires_at is null) then now() + interval '36500 days' else max(c.expires_at) end as ends_at
      from consent c
      where c.status = 'Authorised' and c.grant_id is not null and (c.expires_at is null or c.expires_at > now())
      group by c.grant_id
    )
    update oidc_model t
    set expires_at = ends.ends_at,
        payload = jsonb_set(t.payload, '{exp}', to_jsonb(floor(extract(epoch from ends.ends_at))::bigint))
    from ends
    where ((t.model = 'Grant' and t.id = ends.grant_id) or (t.model = 'RefreshToken' and t.grant_id = ends.grant_id))
      and t.expires_at is not null and t.expires_at > now() and t.expires_at < ends.ends_at`.execute(db);
}

export async function down(): Promise<void> {
  // Nothing to undo: the tokens keep working under the earlier code, which reads the same fields.
}

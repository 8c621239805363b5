import { createHash } from 'node:crypto';
import { type RawBuilder, sql } from 'kysely';
import { fetch, type Agent } from 'undici';
import type { Db } from '../src/db/connect.ts';
import { issueCertificate, type PemPair } from '../src/http/dev-pki.ts';
import { createResourceServer } from '../src/tpp/resource-servers.ts';
import { customerWithAccounts, grantConsent } from '../test/support/granted-consents.ts';
import { createTestTpp } from '../test/support/tpp.ts';

/**
 * Consent-bound access tokens for the introspection scenarios, made the way production makes them: a
 * TPP creates an account-access consent through the consent API, a customer approves it through the
 * sign-in and consent pages, the TPP redeems the code (test/support/granted-consents.ts). The bank's
 * resource server introspecting them authenticates with tls_client_auth.
 */

export interface ResourceServer {
  clientId: string;
  certificate: PemPair;
}

export async function benchResourceServer(db: Db, ca: PemPair): Promise<ResourceServer> {
  const subjectDn = 'CN=bench-accounts-api,O=Bench Bank,C=GB';
  const { clientId } = await createResourceServer(db, {
    name: 'Bench accounts API',
    auth: { method: 'tls_client_auth', subjectDn },
    operator: 'bench',
  });
  return { clientId, certificate: await issueCertificate(ca, { subject: subjectDn, usage: 'client' }) };
}

/** `count` consents approved by as many customers, and the access token of each. */
export async function consentBoundTokens(
  server: { issuer: string; db: Db; ca: PemPair },
  count: number,
): Promise<{ token: string; consentId: string }[]> {
  const tpp = await createTestTpp(server);
  const granted: { token: string; consentId: string }[] = [];
  for (let i = 0; i < count; i += 1) {
    const { customer, current } = await customerWithAccounts(server);
    const { consentId, tokens } = await grantConsent(server, tpp, customer, { type: 'account_access', accounts: [current] });
    granted.push({ token: tokens.access_token, consentId });
  }
  await tpp.agent.close();
  return granted;
}

/** The id (and value) of the i-th cloned access token, so that the load can name any of them. */
export const clonedTokenId = (i: number) => createHash('sha256').update(`bench-consent-token${i}`).digest('base64url');

const consentIdSql = (i: unknown) => sql<string>`md5('bench-consent' || ${i})::uuid`;
const grantIdSql = (i: unknown) => sql<string>`'bench-grant-' || ${i}`;

/** A table's columns in order, generated ones left out: copies that name each column. */
async function insertableColumns(db: Db, table: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select column_name as name from information_schema.columns
     where table_schema = current_schema() and table_name = ${table} and is_generated = 'NEVER'
     order by ordinal_position`.execute(db);
  return rows.map((row) => row.name);
}

/** Rows per cloning statement: few statements, each small enough for the WAL to checkpoint between them. */
const CLONE_BATCH = 1_000_000;

/** Where the clone's tokens stop being live: its last `count` tokens expire one after another over `seconds`. */
export interface Expiring {
  count: number;
  seconds: number;
}

/**
 * Stored data at scale, cloned from one real consent-bound token in set-based statements (generate_series,
 * a million rows each): consents `fromConsent..toConsent`, each Authorised in a grant of its own, and
 * access tokens `fromToken..toToken`, token i under consent 1 + i mod `consents`. The consents are copied
 * column by column (a copy through jsonb_populate_record cost 0.1 ms a row; `(f()).*` evaluated it once
 * per column, 3 ms a row). No clone has been used yet (`last_used_at` null), at either scale: a copy of
 * the template's recent last use made the small run's consents read as used within the minute, so its
 * introspections recorded nothing while the large run's, cloned minutes later, each wrote a use (issue
 * 13's data run compared no write with one write per introspection). The live tokens expire a day after
 * the clone (the template's own expiry may fall within a long run); the last `expiring.count` expire one
 * after another over the `expiring.seconds` after the clone, so the retention sweep has rows to delete
 * while the data run measures. The clones are not bound to the template's browser session (that session
 * holds one grant only); everything else introspection reads (token, grant, consent) is as issued.
 */
export async function cloneConsentBound(
  db: Db,
  template: { token: string; consentId: string },
  range: { consents: [number, number]; tokens: [number, number]; totalConsents: number; expiring: Expiring },
) {
  const token = await db
    .selectFrom('oidc_model')
    .select(['grant_id'])
    .where('model', '=', 'AccessToken')
    .where('id', '=', template.token)
    .executeTakeFirstOrThrow();
  const overrides: Record<string, RawBuilder<unknown>> = {
    id: consentIdSql(sql`i`),
    grant_id: grantIdSql(sql`i`),
    idempotency_key: sql`null`,
    interaction_uid: sql`null`,
    last_used_at: sql`null`,
  };
  const columns = await insertableColumns(db, 'consent');
  const copied = sql.join(columns.map((column) => overrides[column] ?? sql.ref(`c.${column}`)));
  const [fromConsent, toConsent] = range.consents;
  for (let start = fromConsent; start <= toConsent; start += CLONE_BATCH) {
    const end = Math.min(toConsent, start + CLONE_BATCH - 1);
    await sql`
      insert into consent (${sql.join(columns.map((column) => sql.ref(column)))})
      select ${copied}
      from consent c, generate_series(${start}::int, ${end}::int) i
      where c.id = ${template.consentId}
      on conflict do nothing`.execute(db);
    await sql`
      insert into oidc_model (model, id, payload, expires_at)
      select 'Grant', ${grantIdSql(sql`i`)},
             jsonb_set(jsonb_set(g.payload, '{jti}', to_jsonb(${grantIdSql(sql`i`)})), '{rar,0,consent_id}', to_jsonb(${consentIdSql(sql`i`)}::text)),
             g.expires_at
      from oidc_model g, generate_series(${start}::int, ${end}::int) i
      where g.model = 'Grant' and g.id = ${token.grant_id}
      on conflict do nothing`.execute(db);
  }
  const [fromToken, toToken] = range.tokens;
  const firstExpiring = toToken - range.expiring.count + 1;
  for (let start = fromToken; start <= toToken; start += CLONE_BATCH) {
    const end = Math.min(toToken, start + CLONE_BATCH - 1);
    await sql`
      insert into oidc_model (model, id, payload, grant_id, expires_at)
      select t.model, ids.id,
             jsonb_set(jsonb_set(jsonb_set(jsonb_set(jsonb_set(jsonb_set(t.payload, '{jti}', to_jsonb(ids.id)), '{grantId}', to_jsonb(ids.grant_id)),
               '{rar,0,consent_id}', to_jsonb(ids.consent_id)), '{extra,consent_id}', to_jsonb(ids.consent_id)), '{expiresWithSession}', 'false'),
               '{exp}', to_jsonb(extract(epoch from ids.expires_at)::bigint)),
             ids.grant_id, ids.expires_at
      from oidc_model t,
           (select translate(rtrim(encode(sha256(('bench-consent-token' || i)::bytea), 'base64'), '='), '+/', '-_') as id,
                   ${grantIdSql(sql`1 + i % ${range.totalConsents}`)} as grant_id,
                   ${consentIdSql(sql`1 + i % ${range.totalConsents}`)}::text as consent_id,
                   case when i < ${firstExpiring} then now() + interval '1 day'
                        else now() + make_interval(secs => (i - ${firstExpiring} + 1) * ${range.expiring.seconds}::float8 / ${Math.max(range.expiring.count, 1)})
                   end as expires_at
              from generate_series(${start}::int, ${end}::int) i) ids
      where t.model = 'AccessToken' and t.id = ${template.token}
      on conflict do nothing`.execute(db);
  }
  await sql`vacuum analyze oidc_model`.execute(db);
  await sql`vacuum analyze consent`.execute(db);
  // The clone's own writes are flushed before the measurement, so that it times introspection, not
  // the checkpoint of a million fresh rows (needs a superuser: the bench's own cluster has one).
  await sql`checkpoint`.execute(db).catch(() => undefined);
}

/** Introspects as the resource server; throws unless the token reads active (a benchmark of inactive answers would prove nothing). */
export async function assertActive(issuer: string, agent: Agent, rs: ResourceServer, token: string) {
  const response = await fetch(`${issuer}/token/introspection`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, client_id: rs.clientId }).toString(),
  });
  const body = (await response.json()) as { active?: boolean; consent_id?: string };
  if (body.active !== true || !body.consent_id)
    throw new Error(`a consent-bound token the benchmark introspects is not active: ${response.status} ${JSON.stringify(body)}`);
}

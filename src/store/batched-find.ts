import { type CompiledQuery, type RawBuilder, sql } from 'kysely';
import type { Db } from '../db/connect.ts';
import { rowKey } from './batched-write.ts';
import { createTurnBatch } from './turn-batch.ts';

type RowOf<Q> = Q extends CompiledQuery<infer R> ? R : never;

/**
 * The most rows a find statement names as (model, id) pairs; a larger batch goes as arrays. Each count
 * up to it is a statement text of its own (statement-names.ts names the ones that repeat).
 */
const MAX_PAIRS = 4;

/** The rows a find statement reads: (model, id) pairs, or ids and models as two arrays (their every combination). */
type Keys = { model: unknown; id: unknown }[] | { ids: unknown; models: unknown };

/** A live row's expiry condition, for the table under the alias given. */
export type LiveCondition = (alias: string) => RawBuilder<boolean>;

/** What the domains read with a grant in the same statement (the consents it holds), by the grant's id. */
export type GrantCompanion = (grantId: RawBuilder<string>) => RawBuilder<unknown>;

/**
 * What the domains read with a row's account in the same statement (the customer oidc-provider's
 * `findAccount` asks for next), by the account id the row names.
 */
export type AccountCompanion = (accountId: RawBuilder<string | null>) => RawBuilder<unknown>;

/**
 * What the domains read with an interaction's client in the same statement (its standing, which the
 * resume's client load asks for next), by the client id the interaction names.
 */
export type ClientCompanion = (clientId: RawBuilder<string | null>) => RawBuilder<unknown>;

/** What the companions of a find read with its row; each is optional. */
export interface FindCompanions {
  grant?: GrantCompanion;
  account?: AccountCompanion;
  client?: ClientCompanion;
}

export interface FoundGrant {
  payload: Record<string, unknown>;
  /** What the GrantCompanion read with it, in the same snapshot. */
  companion: unknown;
}

export interface FoundRow {
  payload: Record<string, unknown>;
  consumed_at: Date | null;
  /** A token's or a decided interaction's live grant, read in the same statement (undefined for rows without one). */
  grant?: FoundGrant;
  /** A session-bound token's or an interaction's live session, read in the same statement. */
  session?: Record<string, unknown>;
  /** The account the row names and what the AccountCompanion read for it (null when it names nobody), in the same snapshot. */
  account?: { id: string; companion: unknown };
  /** An interaction's client and what the ClientCompanion read for it, in the same snapshot. */
  client?: { id: string; companion: unknown };
}

/**
 * The grant a row belongs to; for an interaction the customer decided, the grant its result names (which
 * may differ from the session's earlier grant it started with): the adapter keeps it under the same id.
 */
const grantIdOf = (alias: string) =>
  sql<string>`coalesce(case when ${sql.ref(`${alias}.model`)} = 'Interaction' then ${sql.ref(`${alias}.payload`)}->'result'->'consent'->>'grantId' end, ${sql.ref(`${alias}.grant_id`)})`;

/**
 * The account a row names, for the rows whose find oidc-provider follows with `findAccount` in the same
 * request: a decided interaction at the resume (the login its result carries, else its session's
 * account), a session (authorization requests), and the grant sources redeemed at the token endpoint.
 * Access tokens are left out: introspection never asks for the account, and userinfo reads it itself.
 */
const accountIdOf = (alias: string) => {
  const model = sql.ref(`${alias}.model`);
  const payload = sql.ref(`${alias}.payload`);
  return sql<
    string | null
  >`case when ${model} = 'Interaction' and ${payload} ? 'result' then coalesce(${payload}->'result'->'login'->>'accountId', ${payload}->'session'->>'accountId') when ${model} in ('Session', 'AuthorizationCode', 'RefreshToken', 'BackchannelAuthenticationRequest') then ${payload}->>'accountId' end`;
};

/**
 * The client a finished interaction names: the resume (oidc-provider's authorization endpoint, entered
 * again) loads the interaction with its result and then its client, whose standing is read on every
 * load. The pages' finds of an interaction without a result never load the client, and read nothing for it.
 */
const clientIdOf = (alias: string) =>
  sql<
    string | null
  >`case when ${sql.ref(`${alias}.model`)} = 'Interaction' and ${sql.ref(`${alias}.payload`)} ? 'result' then ${sql.ref(`${alias}.payload`)}->'params'->>'client_id' end`;

/**
 * Finds by id, batched: every find issued while the event loop handles one round of I/O (all the
 * requests that arrived together, and oidc-provider's habit of looking one token value up as
 * AccessToken, ClientCredentials and RefreshToken at once) shares one query, sent once that round is
 * over. Under load that is one round trip for many introspections instead of one each, and profiling
 * showed round trips (pg's socket writes) as the largest cost of introspection.
 *
 * A token row comes with its grant and what the domains read with the grant (`companion`: the consents
 * it holds), and a session-bound token with its session, in the same statement, so a consent-bound
 * introspection reads token, grant, consent status and session in one round trip. A row that names an
 * account comes with what the domains read for it (`companion`: the customer), so the resume and the
 * token request do not read the customer on their own; a finished interaction comes with its client's
 * standing, which the resume asks for next. Every find still reads the database after its own request began, so a
 * revocation committed before a request started is seen by it.
 */
export function createBatchedFind(db: Db, live: LiveCondition, companions: FindCompanions = {}) {
  // The statement's text is the same for every batch of as many rows (up to MAX_PAIRS), and for every
  // larger batch (the ids and models then go as two array parameters), so each is built and compiled once:
  // building it per batch cost a few per cent of the process. Its other parameters are fixed at that
  // moment too, so the live condition and the companions say "now" in SQL.
  //
  // A few rows go as (model, id) pairs of plain equalities, not arrays: Postgres prices a plan it keeps
  // for a named statement (generic) with arrays of unknown length as ten lookups each, found it dearer
  // than a plan for the actual short arrays, and so planned the find anew on every run once the table was
  // large (about 1 ms each; 15 of Postgres's 25 ms per complete flow after the request scenarios filled
  // it). A larger batch shares one plan among its many finds. The grant and the session are lateral
  // lookups by key, so no statistics (a table analyzed with few sessions) make a kept plan filter every
  // session instead.
  const query = (keys: Keys) =>
    db
      .selectFrom('oidc_model as t')
      .leftJoinLateral(
        (eb) =>
          eb
            .selectFrom('oidc_model as g')
            .select(['g.id', 'g.payload'])
            .where('g.model', '=', 'Grant')
            .where('g.id', '=', grantIdOf('t'))
            .where(live('g'))
            .as('g'),
        (join) => join.onTrue(),
      )
      .leftJoinLateral(
        (eb) =>
          eb
            .selectFrom('oidc_model as s')
            .select('s.payload')
            .where('s.model', '=', 'Session')
            .where(
              's.uid',
              '=',
              sql<string>`case when t.model = 'Interaction' then t.payload->'session'->>'uid' when t.payload->>'expiresWithSession' = 'true' then t.payload->>'sessionUid' end`,
            )
            .where(live('s'))
            .limit(sql.lit(1))
            .as('s'),
        (join) => join.onTrue(),
      )
      .leftJoinLateral(db.selectNoFrom(accountIdOf('t').as('id')).as('a'), (join) => join.onTrue())
      .leftJoinLateral(db.selectNoFrom(clientIdOf('t').as('id')).as('c'), (join) => join.onTrue())
      .select([
        't.model',
        't.id',
        't.payload',
        't.consumed_at',
        'g.payload as grant_payload',
        's.payload as session_payload',
        'a.id as account_id',
        'c.id as client_id',
      ])
      .select(companions.grant ? companions.grant(sql.ref<string>('g.id')).as('grant_companion') : sql<null>`null`.as('grant_companion'))
      .select(
        companions.account
          ? sql<unknown>`case when a.id is not null then ${companions.account(sql.ref<string | null>('a.id'))} end`.as('account_companion')
          : sql<null>`null`.as('account_companion'),
      )
      .select(
        companions.client
          ? sql<unknown>`case when c.id is not null then ${companions.client(sql.ref<string | null>('c.id'))} end`.as('client_companion')
          : sql<null>`null`.as('client_companion'),
      )
      .where(
        Array.isArray(keys)
          ? sql<boolean>`(${sql.join(
              keys.map((key) => sql`(t.model = ${key.model} and t.id = ${key.id})`),
              sql` or `,
            )})`
          : sql<boolean>`t.id = any(${keys.ids}::text[]) and t.model = any(${keys.models}::text[])`,
      )
      .where(live('t'));
  const arrays = { ids: Symbol('ids'), models: Symbol('models') };
  const compiled = query(arrays).compile();
  type Row = RowOf<typeof compiled>;
  /** The statement for batches of `count` rows, compiled at its first use, and the slots of its pairs. */
  const pairStatements = new Map<number, { compiled: CompiledQuery<Row>; slots: { model: symbol; id: symbol }[] }>();
  const pairStatement = (count: number) => {
    let statement = pairStatements.get(count);
    if (!statement) {
      const slots = Array.from({ length: count }, () => ({ model: Symbol('model'), id: Symbol('id') }));
      statement = { compiled: query(slots).compile() as CompiledQuery<Row>, slots };
      pairStatements.set(count, statement);
    }
    return statement;
  };

  const toFoundRow = (row: Row): FoundRow => ({
    payload: row.payload,
    consumed_at: row.consumed_at,
    ...(row.grant_payload && { grant: { payload: row.grant_payload, companion: row.grant_companion } }),
    ...(row.session_payload && { session: row.session_payload }),
    ...(companions.account && row.account_id !== null && { account: { id: row.account_id, companion: row.account_companion } }),
    ...(companions.client && row.client_id !== null && { client: { id: row.client_id, companion: row.client_companion } }),
  });

  async function loadMany(keys: string[]): Promise<Map<string, FoundRow>> {
    const pairs = keys.map((key) => key.split('\u0000') as [string, string]);
    const slotValues = new Map<unknown, unknown>();
    let statement: CompiledQuery<Row>;
    if (pairs.length <= MAX_PAIRS) {
      const { compiled: forPairs, slots } = pairStatement(pairs.length);
      pairs.forEach(([model, id], index) => slotValues.set(slots[index]!.model, model).set(slots[index]!.id, id));
      statement = forPairs;
    } else {
      slotValues.set(arrays.ids, [...new Set(pairs.map(([, id]) => id))]).set(arrays.models, [...new Set(pairs.map(([model]) => model))]);
      statement = compiled;
    }
    const parameters = statement.parameters.map((value) => (slotValues.has(value) ? slotValues.get(value) : value));
    const { rows } = await db.executeQuery<Row>({ ...statement, parameters });
    return new Map(rows.map((row) => [rowKey(row.model, row.id), toFoundRow(row)]));
  }

  const load = createTurnBatch<FoundRow | undefined>(loadMany, undefined);
  const find = (model: string, id: string): Promise<FoundRow | undefined> => load(rowKey(model, id));
  /**
   * The same find of one row inside another statement: `row`, a scalar subquery of the row as JSON (null
   * when there is none), and `read`, what the find would have answered from it. A page's activity
   * statement reads the interaction the engine loads next this way (request-prefetch.ts keepFoundOfRequest).
   */
  const within = (model: string, id: string) => ({
    row: sql<FoundJson<Row> | null>`(select to_jsonb(f) from (${query([{ model, id }])}) as f)`,
    read: (json: FoundJson<Row> | null): FoundRow | undefined =>
      json === null ? undefined : toFoundRow({ ...json, consumed_at: json.consumed_at === null ? null : new Date(json.consumed_at) }),
  });
  return Object.assign(find, { within });
}

/** A found row as JSON: its timestamp is text. */
type FoundJson<Row> = Omit<Row, 'consumed_at'> & { consumed_at: string | null };

export type BatchedFind = ReturnType<typeof createBatchedFind>;

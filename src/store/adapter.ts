import type { Adapter, AdapterPayload } from 'oidc-provider';
import { errors } from 'oidc-provider';
import { sql } from 'kysely';
import { currentExecutor } from '../db/ambient-transaction.ts';
import type { Db } from '../db/connect.ts';
import { destroyGrantEverywhere } from './artefacts.ts';
import { type BatchedFind, createBatchedFind, type FindCompanions } from './batched-find.ts';
import {
  forgetOfRequest,
  keepAccountOfRequest,
  keepClientOfRequest,
  keepGrantOfRequest,
  keepSessionOfRequest,
  takeClientOfRequest,
  takeFoundOfRequest,
  takeOfRequest,
} from './request-prefetch.ts';
import { createBatchedInsertIfAbsent, createBatchedUpsert } from './batched-write.ts';
import { holdUpsert } from './held-upserts.ts';
import { upsertModelRows, upsertModelRowsReplacing } from './model-upsert.ts';
import { takeReplacedSession } from './session-rotation.ts';
import type { ClientCache } from './client-cache.ts';

/**
 * One Kysely-backed oidc-provider adapter for every model: a row per (model, id) with the payload as
 * jsonb. Expiry uses the database clock so that every instance agrees on it.
 */

function expiry(expiresIn: number | undefined) {
  return expiresIn === undefined ? null : sql<Date>`now() + ${expiresIn} * interval '1 second'`;
}

const live = sql<boolean>`(expires_at is null or expires_at > now())`;
const liveAt = (alias: string) => sql<boolean>`(${sql.ref(`${alias}.expires_at`)} is null or ${sql.ref(`${alias}.expires_at`)} > now())`;

/** The library's own words for a spent grant source, so that every reuse reads alike (monitoring matches them). */
const CONSUMABLE_LABELS: Record<string, string> = { AuthorizationCode: 'authorization code', RefreshToken: 'refresh token' };

function withConsumption(model: string, row: { payload: Record<string, unknown>; consumed_at: Date | null }): AdapterPayload {
  const payload = row.payload as AdapterPayload;
  // A spent code reads as unspent, so a second redemption, sequential or concurrent, reaches `consume`,
  // where the conditional update alone decides and reuse is handled in one place.
  if (row.consumed_at === null || model === 'AuthorizationCode') return payload;
  return { ...payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) };
}

/** Whether a stored client may act now, and which of its keys an operator blocked. */
export interface ClientStanding {
  /** False for a suspended or deleted TPP: its client does not exist for the provider. */
  usable: boolean;
  /** Kids left out of the client's JWKS (`incident:block-credential`): nothing they sign verifies. */
  blockedKids: readonly string[];
}

export interface AdapterOptions {
  /**
   * Read on every load of a stored client, cached or not (one query, or none when `kept`: what the
   * ClientCompanion read with this request's interaction): a client it calls unusable does not exist
   * for the provider. It may also throw to refuse the request (the operator's throttle).
   */
  clientStanding?: (db: Db, clientId: string, kept?: { companion: unknown }) => Promise<ClientStanding>;
  /** Clients (with their usability) kept in memory until the database notifies a change. */
  clientCache?: ClientCache;
  /** A code or refresh token redeemed twice: ends its grant (and what lives in it); without it the grant is destroyed. */
  sourceReused?: (db: Db, grantId: string, model: 'AuthorizationCode' | 'RefreshToken') => Promise<void>;
  /** Whether a just-stored access token may stand; one it refuses takes its whole grant down (invalid_grant). */
  issuanceHolds?: (db: Db, payload: AdapterPayload) => Promise<boolean>;
  /** The finds by id (createModelFind, with what the domains read alongside); without it, one without companions. */
  batchedFind?: BatchedFind;
  batchedUpsert?: ReturnType<typeof createBatchedUpsert>;
  batchedInsertIfAbsent?: ReturnType<typeof createBatchedInsertIfAbsent>;
}

/** A client's blocked keys (`incident:block-credential`) are gone from its JWKS: nothing they sign verifies. */
function withoutBlockedKeys(payload: AdapterPayload, blocked: readonly string[]): AdapterPayload {
  const jwks = payload.jwks as { keys?: { kid?: string }[] } | undefined;
  if (blocked.length === 0 || !jwks?.keys?.length) return payload;
  return { ...payload, jwks: { ...jwks, keys: jwks.keys.filter((key) => !key.kid || !blocked.includes(key.kid)) } };
}

export class KyselyAdapter implements Adapter {
  readonly model: string;
  readonly #db: Db;
  readonly #options: AdapterOptions;

  constructor(db: Db, model: string, options: AdapterOptions = {}) {
    this.#db = db;
    this.model = model;
    this.#options = options;
  }

  /** Joins the caller's ambient transaction when there is one (see db/ambient-transaction.ts). */
  get db(): Db {
    return currentExecutor(this.#db);
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const row = {
      model: this.model,
      id,
      payload: JSON.stringify(payload),
      grant_id: payload.grantId ?? null,
      user_code: payload.userCode ?? null,
      uid: payload.uid ?? null,
      expires_at: expiry(expiresIn),
    };
    // A Session saved under a new id deletes its old row in the same statement (store/session-rotation.ts).
    // A held write is the caller's to send (store/held-upserts.ts); inside an ambient transaction the
    // write belongs to that transaction; elsewhere it joins a batch.
    const replaced = this.model === 'Session' ? takeReplacedSession(id) : undefined;
    if (replaced !== undefined) await upsertModelRowsReplacing(this.db, [row], { model: this.model, id: replaced }).execute();
    else if (!holdUpsert(row)) {
      if (this.#options.batchedUpsert && this.db === this.#db) await this.#options.batchedUpsert(row);
      else await upsertModelRows(this.db, [row]).execute();
    }
    if (this.model === 'Client') this.#options.clientCache?.forget(id);
    if (this.model === 'Grant') forgetOfRequest('Grant', id);
    if (this.model === 'Session' && payload.uid) forgetOfRequest('Session', payload.uid);
    if (
      this.model === 'AccessToken' &&
      payload.grantId &&
      this.#options.issuanceHolds &&
      !(await this.#options.issuanceHolds(this.db, payload))
    ) {
      await destroyGrantEverywhere(this.db, payload.grantId);
      throw new errors.InvalidGrant('the consent behind this grant is no longer authorised');
    }
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (this.model !== 'Client') return this.findById(id);
    // An ambient transaction (a registration) must see its own writes, never a cached copy.
    const cache = this.#options.clientCache;
    const payload = cache && this.db === this.#db ? await cache.get(id, () => this.findById(id)) : await this.findById(id);
    if (!payload || !this.#options.clientStanding) return payload;
    // Suspension and blocked keys are asked on every load, never cached: a notification arrives only
    // after the change commits, and the TPP's very next call must fail.
    // Read with this request's interaction, in the same statement, when the resume loaded one first.
    const kept = this.db === this.#db ? takeClientOfRequest(id) : undefined;
    const standing = await this.#options.clientStanding(this.db, id, kept);
    if (!standing.usable) return undefined;
    return withoutBlockedKeys(payload, standing.blockedKids);
  }

  /** Finds of one id in the same tick share a query, except inside an ambient transaction, which must see its own writes. */
  private async findById(id: string) {
    const batchedFind = this.#options.batchedFind;
    if (!batchedFind || this.db !== this.#db) return this.findBy('id', id);
    if (this.model === 'Grant') {
      // Read a moment ago with this request's token, in the same statement.
      const kept = takeOfRequest('Grant', id);
      if (kept) return kept as AdapterPayload;
    }
    // A page's activity statement read it a moment ago in this request (request-prefetch.ts).
    const prefetched = takeFoundOfRequest(this.model, id);
    const row = prefetched ? prefetched.row : await batchedFind(this.model, id);
    const grantId =
      this.model === 'Interaction'
        ? ((row?.payload.result as { consent?: { grantId?: unknown } } | undefined)?.consent?.grantId ?? row?.payload.grantId)
        : row?.payload.grantId;
    if (row?.grant && typeof grantId === 'string') keepGrantOfRequest(grantId, row.grant);
    const sessionUid =
      this.model === 'Interaction' ? (row?.payload.session as { uid?: unknown } | undefined)?.uid : row?.payload.sessionUid;
    if (row?.session && typeof sessionUid === 'string') keepSessionOfRequest(sessionUid, row.session);
    if (row?.account) keepAccountOfRequest(row.account.id, row.account.companion);
    if (row?.client) keepClientOfRequest(row.client.id, row.client.companion);
    return row && withConsumption(this.model, row);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    // A session-bound token's or an interaction's session, read with it in this request.
    const kept = this.model === 'Session' && this.db === this.#db ? takeOfRequest('Session', uid) : undefined;
    return kept ?? this.findBy('uid', uid);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.findBy('user_code', userCode);
  }

  private async findBy(column: 'id' | 'uid' | 'user_code', value: string) {
    const row = await this.db
      .selectFrom('oidc_model')
      .select(['payload', 'consumed_at'])
      .where('model', '=', this.model)
      .where(column, '=', value)
      .where(live)
      .executeTakeFirst();
    return row && withConsumption(this.model, row);
  }

  /**
   * Exactly once: the library reads `consumed` and then calls consume, so two racers can both pass its
   * check. Only the conditional update decides; the loser's redemption is code reuse (RFC 9700 4.5),
   * so it fails the request and takes the whole grant down with it.
   */
  async consume(id: string): Promise<void> {
    const won = await this.db
      .updateTable('oidc_model')
      .set({ consumed_at: sql`now()`, updated_at: sql`now()` })
      .where('model', '=', this.model)
      .where('id', '=', id)
      .where('consumed_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (won) return;
    const row = await this.db
      .selectFrom('oidc_model')
      .select('grant_id')
      .where('model', '=', this.model)
      .where('id', '=', id)
      .executeTakeFirst();
    if (row?.grant_id) {
      if ((this.model === 'AuthorizationCode' || this.model === 'RefreshToken') && this.#options.sourceReused)
        await this.#options.sourceReused(this.db, row.grant_id, this.model);
      else await destroyGrantEverywhere(this.db, row.grant_id);
    }
    throw new errors.InvalidGrant(`${CONSUMABLE_LABELS[this.model] ?? this.model} already consumed`);
  }

  async destroy(id: string): Promise<void> {
    await this.db.deleteFrom('oidc_model').where('model', '=', this.model).where('id', '=', id).execute();
    if (this.model === 'Client') this.#options.clientCache?.forget(id);
    if (this.model === 'Grant') forgetOfRequest('Grant', id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db.deleteFrom('oidc_model').where('model', '=', this.model).where('grant_id', '=', grantId).execute();
  }

  /**
   * Inserts a row only if no live row holds the id; true when this call stored it. Backs replay
   * detection (DPoP proofs, client assertions), where the library's own find-then-save lets
   * concurrent replays through.
   */
  async insertIfAbsent(id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean> {
    if (this.#options.batchedInsertIfAbsent && this.db === this.#db) {
      return this.#options.batchedInsertIfAbsent({
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        expires_at: expiry(expiresIn),
      });
    }
    const inserted = await this.db
      .insertInto('oidc_model')
      .values({ model: this.model, id, payload: JSON.stringify(payload), expires_at: expiry(expiresIn) })
      .onConflict((oc) =>
        oc
          .columns(['model', 'id'])
          .doUpdateSet({ payload: JSON.stringify(payload), expires_at: expiry(expiresIn), updated_at: sql`now()` })
          .where('oidc_model.expires_at', '<=', sql<Date>`now()`),
      )
      .returning('id')
      .executeTakeFirst();
    return inserted !== undefined;
  }
}

/**
 * The adapter's finds by id, with what the domains read alongside each row (see FindCompanions): made
 * once per process and shared with the pages, whose activity statement reads an interaction the same way.
 */
export function createModelFind(db: Db, companions: FindCompanions = {}): BatchedFind {
  return createBatchedFind(db, liveAt, companions);
}

/** The adapter constructor oidc-provider instantiates once per model name. */
export function kyselyAdapterFactory(db: Db, options: Omit<AdapterOptions, 'batchedUpsert' | 'batchedInsertIfAbsent'> = {}) {
  const batched = {
    batchedFind: options.batchedFind ?? createModelFind(db),
    batchedUpsert: createBatchedUpsert(db),
    batchedInsertIfAbsent: createBatchedInsertIfAbsent(db),
  };
  return class extends KyselyAdapter {
    constructor(model: string) {
      super(db, model, { ...options, ...batched });
    }
  };
}

/** Deletes expired rows in small batches; SKIP LOCKED keeps concurrent sweepers off each other's rows. */
export async function sweepExpired(db: Db, batchSize = 1000): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await db
      .deleteFrom('oidc_model')
      .where(({ eb, refTuple, selectFrom }) =>
        eb(
          refTuple('model', 'id'),
          'in',
          selectFrom('oidc_model')
            .select(['model', 'id'])
            .where('expires_at', '<', sql<Date>`now()`)
            .limit(batchSize)
            .forUpdate()
            .skipLocked()
            .$asTuple('model', 'id'),
        ),
      )
      .executeTakeFirst();
    const deleted = Number(result.numDeletedRows);
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

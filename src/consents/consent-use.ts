import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../db/connect.ts';
import type { ConsentUseKind } from '../db/schema.ts';

const MINUTE_MS = 60_000;

/**
 * Records each use of a consent's tokens for the customer's timeline (AU CDR rule 1.15) and keeps
 * `last_used_at` to the minute, one statement each, so the timeline and `last_used_at` never disagree.
 * Issuing and refreshing are recorded every time, in the token request. Introspection is recorded by
 * IntrospectionUses, off the request path.
 */
export interface ConsentUse {
  consentId: string;
  kind: Exclude<ConsentUseKind, 'introspected'>;
  /** The client that used it: the TPP. */
  clientId: string;
}

export async function noteConsentUse(db: Db, { consentId, kind, clientId }: ConsentUse): Promise<void> {
  const touch = db
    .updateTable('consent')
    .set({ last_used_at: sql<Date>`now()` })
    .where('id', '=', consentId)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', sql<Date>`now() - interval '1 minute'`)]))
    .returning('id');
  // A data-modifying CTE runs whether or not the insert reads it: every issuance is on the timeline.
  await db
    .with('touched', () => touch)
    .insertInto('consent_use')
    .values({ consent_id: consentId, kind, client_id: clientId })
    .execute();
}

/**
 * Introspections of consent-bound tokens, which a busy resource server makes on every API call: each
 * consent's is recorded at most once a minute, and never on the introspection's own path (issue 13: no
 * write on the hot path; the request reads, answers, and leaves the write to this). `note` only
 * remembers it; within `intervalMs` one statement writes everything noted since, and `close` writes the
 * rest at shutdown. A crash loses at most the last interval's notes; a failed write is retried with the
 * next. Each process notes a consent once a minute; across processes the conditional update of
 * `last_used_at` decides under the consent row's lock, so concurrent notes record it once.
 */
export interface IntrospectionUses {
  /** `clientId` (the bank's resource server, or the TPP itself) introspected a token of the consent. */
  note(consentId: string, clientId: string): void;
  /** Writes what is noted so far, now. */
  flush(): Promise<void>;
  /** Writes what is noted and stops. */
  close(): Promise<void>;
}

interface Noted {
  clientId: string;
  at: Date;
}

export function createIntrospectionUses(db: Db, logger: Logger, intervalMs = 1_000): IntrospectionUses {
  /** When this process noted each consent within the last minute, oldest first (older ones leave from the front). */
  const lately = new Map<string, number>();
  let pending = new Map<string, Noted>();
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  function notedLately(consentId: string, now: number): boolean {
    for (const [id, at] of lately) {
      if (now - at < MINUTE_MS) break;
      lately.delete(id);
    }
    if (lately.has(consentId)) return true;
    lately.set(consentId, now);
    return false;
  }

  async function write(batch: Map<string, Noted>) {
    // Rows locked in id order, as every writer of several consents takes them, so two processes'
    // writes cannot deadlock; the once-a-minute condition is checked again on the locked row.
    const noted = [...batch].toSorted(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const ids = noted.map(([id]) => id);
    const clients = noted.map(([, use]) => use.clientId);
    const times = noted.map(([, use]) => use.at.toISOString());
    await sql`
      with noted as (
        select * from unnest(${ids}::uuid[], ${clients}::text[], ${times}::timestamptz[]) as n (consent_id, client_id, at)
      ), due as (
        select c.id from consent c join noted n on n.consent_id = c.id
         where c.last_used_at is null or c.last_used_at < n.at - interval '1 minute'
         order by c.id for no key update of c
      ), touched as (
        update consent c set last_used_at = n.at from due d, noted n
         where c.id = d.id and n.consent_id = c.id and (c.last_used_at is null or c.last_used_at < n.at - interval '1 minute')
        returning c.id, n.client_id, n.at
      )
      insert into consent_use (consent_id, kind, client_id, occurred_at) select id, 'introspected', client_id, at from touched`.execute(db);
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = new Map();
    if (batch.size === 0) return writing;
    writing = writing.then(() =>
      write(batch).catch((error: unknown) => {
        logger.warn({ err: error, consents: batch.size }, 'recording introspections of consents failed; retried with the next');
        for (const [id, use] of batch) if (!pending.has(id)) pending.set(id, use);
        schedule();
      }),
    );
    return writing;
  }

  function schedule() {
    if (timer || pending.size === 0) return;
    timer = setTimeout(() => void flush(), intervalMs);
    timer.unref();
  }

  return {
    note(consentId, clientId) {
      const now = Date.now();
      if (notedLately(consentId, now)) return;
      pending.set(consentId, { clientId, at: new Date(now) });
      schedule();
    },
    flush,
    async close() {
      await flush();
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

export interface RecordedUse {
  kind: ConsentUseKind;
  clientId: string;
  occurredAt: Date;
}

export async function usesOfConsent(db: Db, consentId: string): Promise<RecordedUse[]> {
  const rows = await db.selectFrom('consent_use').select(['kind', 'client_id', 'occurred_at']).where('consent_id', '=', consentId).orderBy('occurred_at').orderBy('id').execute();
  return rows.map((row) => ({ kind: row.kind, clientId: row.client_id, occurredAt: row.occurred_at }));
}

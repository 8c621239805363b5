import type { Logger } from 'pino';
import type { Db } from '../db/connect.ts';
import type { ConsentUseKind } from '../db/schema.ts';
import { insertIntrospections, insertUseTouchingConsent, listUsesOfConsent } from './consent-use-repository.ts';

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

export async function noteConsentUse(db: Db, use: ConsentUse): Promise<void> {
  await insertUseTouchingConsent(db, use);
}

/**
 * Introspections of consent-bound tokens, which a busy resource server makes on every API call: each
 * consent's is recorded at most once a minute, and never on the introspection's own path (no write on
 * the hot path: the request reads, answers, and leaves the write to this). `note` only
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

  function write(batch: Map<string, Noted>) {
    return insertIntrospections(
      db,
      [...batch].map(([consentId, use]) => ({ consentId, ...use })),
    );
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
  const rows = await listUsesOfConsent(db, consentId);
  return rows.map((row) => ({ kind: row.kind, clientId: row.client_id, occurredAt: row.occurred_at }));
}

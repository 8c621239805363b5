import { createHash } from 'node:crypto';
import type { Kysely, RawBuilder, Transaction } from 'kysely';
import type { AuditActorKind, AuditEventRow, AuditSubjectType, Database } from '../db/schema.ts';
import {
  type AuditEventValues,
  appendAuditEventCall,
  listChain,
  listEventsForExport,
  listTrailPage,
  runAuditAppend,
} from './audit-repository.ts';
import { canonicalJson } from './canonical-json.ts';

/**
 * The append-only audit trail. Callers pass the transaction that makes the change, so the change and
 * its event commit or roll back together. Each subject (a consent, a TPP, ...) has its own hash chain.
 */

export interface AuditEvent {
  subjectType: AuditSubjectType;
  subjectId: string;
  event: string;
  actor: { kind: AuditActorKind; id: string | null };
  before?: unknown;
  after?: unknown;
  details?: Record<string, unknown>;
}

export interface RecordedAuditEvent {
  seq: number;
  event: string;
  actor: { kind: AuditActorKind; id: string | null };
  before: unknown;
  after: unknown;
  details: Record<string, unknown>;
  occurredAt: Date;
}

/** What a row's hash covers: its values and its place in the chain. */
interface Hashed extends AuditEventValues {
  seq: number;
  prev_hash: string | null;
}

function hashOf(row: Hashed): string {
  const material = canonicalJson({ ...row, occurred_at: row.occurred_at.toISOString() });
  return createHash('sha256').update(material).digest('hex');
}

type AuditObserver = (event: AuditEvent) => void;
const observers = new Set<AuditObserver>();

/**
 * Lets ops see every event as it is written (security log lines, counters). Observers run when the
 * event is appended, inside its transaction; one that rolls back afterwards was still observed.
 * Returns the function that stops observing.
 */
export function observeAuditTrail(observer: AuditObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

// Stand-ins for the two links of a row, which only the database knows under the chain's lock.
const PREVIOUS = '\u0000previous hash';
const SEQUENCE = '\u0000sequence number';

/**
 * The canonical JSON `hashOf` hashes, in three pieces around the previous hash and the sequence number
 * (JSON's own keys are sorted, so prev_hash comes before seq): the database joins them (migration
 * append_audit_event).
 */
function materialAround(row: AuditEventValues): [string, string, string] {
  const template = canonicalJson({ ...row, occurred_at: row.occurred_at.toISOString(), prev_hash: PREVIOUS, seq: SEQUENCE });
  const previous = template.lastIndexOf(`"prev_hash":${JSON.stringify(PREVIOUS)}`) + '"prev_hash":'.length;
  const sequence = template.lastIndexOf(`"seq":${JSON.stringify(SEQUENCE)}`) + '"seq":'.length;
  return [
    template.slice(0, previous),
    template.slice(previous + JSON.stringify(PREVIOUS).length, sequence),
    template.slice(sequence + JSON.stringify(SEQUENCE).length),
  ];
}

/**
 * The append as a call to place in a statement of the caller's (a change that is one statement on its
 * own carries its event in that statement, so both commit or neither): the database function takes the
 * subject's chain lock (two writers cannot both extend the same link), reads the last link after the
 * lock is granted and inserts the row with its hash. `observed` tells the observers, once it committed.
 */
export function auditEventCall(input: AuditEvent): { call: RawBuilder<unknown>; observed(): void } {
  const row = {
    subject_type: input.subjectType,
    subject_id: input.subjectId,
    event: input.event,
    actor_kind: input.actor.kind,
    actor_id: input.actor.id,
    before: input.before ?? null,
    after: input.after ?? null,
    details: input.details ?? {},
    occurred_at: new Date(),
  };
  return {
    call: appendAuditEventCall({ ...row, material: materialAround(row) }),
    observed: () => {
      for (const observer of observers) observer(input);
    },
  };
}

/** Appends in the caller's transaction: one round trip. */
export async function appendAuditEvent(trx: Transaction<Database>, input: AuditEvent): Promise<void> {
  const { call, observed } = auditEventCall(input);
  await runAuditAppend(trx, call);
  observed();
}

function toRecorded(row: AuditEventRow): RecordedAuditEvent {
  return {
    seq: row.seq,
    event: row.event,
    actor: { kind: row.actor_kind, id: row.actor_id },
    before: row.before,
    after: row.after,
    details: row.details,
    occurredAt: row.occurred_at,
  };
}

export async function auditHistory(db: Kysely<Database>, subjectType: AuditSubjectType, subjectId: string): Promise<RecordedAuditEvent[]> {
  return (await listChain(db, subjectType, subjectId)).map(toRecorded);
}

export type ChainVerdict = { valid: true; length: number } | { valid: false; brokenAt: number };

/** Recomputes every link of a subject's chain; the first row whose hash or link does not hold breaks it. */
export async function verifyAuditChain(db: Kysely<Database>, subjectType: AuditSubjectType, subjectId: string): Promise<ChainVerdict> {
  const rows = await listChain(db, subjectType, subjectId);
  let previous: string | null = null;
  for (const [index, row] of rows.entries()) {
    const { id: _id, hash, ...hashed } = row;
    if (row.seq !== index + 1 || row.prev_hash !== previous || hashOf(hashed) !== hash) {
      return { valid: false, brokenAt: row.seq };
    }
    previous = hash;
  }
  return { valid: true, length: rows.length };
}

export interface TrailVerdict {
  chains: number;
  events: number;
  broken: { subjectType: AuditSubjectType; subjectId: string; brokenAt: number }[];
}

const VERIFY_PAGE = 2000;

/** Verifies every subject's chain in one ordered pass over the trail, a page at a time. */
export async function verifyAuditTrail(db: Kysely<Database>): Promise<TrailVerdict> {
  const verdict: TrailVerdict = { chains: 0, events: 0, broken: [] };
  let chain: { type: AuditSubjectType; id: string; expectedSeq: number; previous: string | null; broken: boolean } | undefined;
  let after: { type: string; id: string; seq: number } | undefined;
  for (;;) {
    const rows = await listTrailPage(db, VERIFY_PAGE, after);
    for (const row of rows) {
      if (!chain || chain.type !== row.subject_type || chain.id !== row.subject_id) {
        chain = { type: row.subject_type, id: row.subject_id, expectedSeq: 1, previous: null, broken: false };
        verdict.chains += 1;
      }
      verdict.events += 1;
      const { id: _id, hash, ...hashed } = row;
      if (!chain.broken && (row.seq !== chain.expectedSeq || row.prev_hash !== chain.previous || hashOf(hashed) !== hash)) {
        chain.broken = true;
        verdict.broken.push({ subjectType: row.subject_type, subjectId: row.subject_id, brokenAt: row.seq });
      }
      chain.expectedSeq = row.seq + 1;
      chain.previous = hash;
    }
    if (rows.length < VERIFY_PAGE) return verdict;
    const last = rows.at(-1)!;
    after = { type: last.subject_type, id: last.subject_id, seq: last.seq };
  }
}

/** A recorded event as exported: with its subject, its time as ISO text and the chain links. */
export interface ExportedAuditEvent extends Omit<RecordedAuditEvent, 'occurredAt'> {
  subjectType: AuditSubjectType;
  subjectId: string;
  occurredAt: string;
  prevHash: string | null;
  hash: string;
}

/**
 * Events of one subject, or of every subject within [from, to), oldest first, with their hashes so
 * that whoever receives the export can check the chain links themselves.
 */
export async function exportAuditEvents(
  db: Kysely<Database>,
  filter: { subject?: { type: AuditSubjectType; id: string }; from?: Date; to?: Date; limit: number },
): Promise<ExportedAuditEvent[]> {
  return (await listEventsForExport(db, filter)).map((row) => ({
    subjectType: row.subject_type,
    subjectId: row.subject_id,
    seq: row.seq,
    event: row.event,
    actor: { kind: row.actor_kind, id: row.actor_id },
    before: row.before,
    after: row.after,
    details: row.details,
    occurredAt: row.occurred_at.toISOString(),
    prevHash: row.prev_hash,
    hash: row.hash,
  }));
}

import { createHash } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { AuditActorKind, AuditEventRow, AuditSubjectType, Database } from '../db/schema.ts';
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

interface Hashed {
  subject_type: string;
  subject_id: string;
  seq: number;
  event: string;
  actor_kind: string;
  actor_id: string | null;
  before: unknown;
  after: unknown;
  details: unknown;
  occurred_at: Date;
  prev_hash: string | null;
}

function hashOf(row: Hashed): string {
  const material = canonicalJson({ ...row, occurred_at: row.occurred_at.toISOString() });
  return createHash('sha256').update(material).digest('hex');
}

export async function appendAuditEvent(trx: Transaction<Database>, input: AuditEvent): Promise<void> {
  // Serialises appends per subject so that two writers cannot both extend the same chain link.
  await sql`select pg_advisory_xact_lock(hashtext(${`${input.subjectType}:${input.subjectId}`}))`.execute(trx);
  const last = await trx
    .selectFrom('audit_event')
    .select(['seq', 'hash'])
    .where('subject_type', '=', input.subjectType)
    .where('subject_id', '=', input.subjectId)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  const row: Hashed = {
    subject_type: input.subjectType,
    subject_id: input.subjectId,
    seq: (last?.seq ?? 0) + 1,
    event: input.event,
    actor_kind: input.actor.kind,
    actor_id: input.actor.id,
    before: input.before ?? null,
    after: input.after ?? null,
    details: input.details ?? {},
    occurred_at: new Date(),
    prev_hash: last?.hash ?? null,
  };
  await trx
    .insertInto('audit_event')
    .values({
      ...row,
      subject_type: input.subjectType,
      actor_kind: input.actor.kind,
      before: JSON.stringify(row.before),
      after: JSON.stringify(row.after),
      details: JSON.stringify(row.details),
      hash: hashOf(row),
    })
    .execute();
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

function chainOf(db: Kysely<Database>, subjectType: AuditSubjectType, subjectId: string) {
  return db
    .selectFrom('audit_event')
    .selectAll()
    .where('subject_type', '=', subjectType)
    .where('subject_id', '=', subjectId)
    .orderBy('seq')
    .execute();
}

export async function auditHistory(db: Kysely<Database>, subjectType: AuditSubjectType, subjectId: string): Promise<RecordedAuditEvent[]> {
  return (await chainOf(db, subjectType, subjectId)).map(toRecorded);
}

export type ChainVerdict = { valid: true; length: number } | { valid: false; brokenAt: number };

/** Recomputes every link of a subject's chain; the first row whose hash or link does not hold breaks it. */
export async function verifyAuditChain(db: Kysely<Database>, subjectType: AuditSubjectType, subjectId: string): Promise<ChainVerdict> {
  const rows = await chainOf(db, subjectType, subjectId);
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

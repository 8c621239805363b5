import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { AuditEventRow, AuditSubjectType, Database } from '../db/schema.ts';

/** The audit_event table: appended through the database's append_audit_event, read in chain order. */

/** An event's own values, as its row stores and its hash covers them (less its place in the chain). */
export interface AuditEventValues {
  subject_type: string;
  subject_id: string;
  event: string;
  actor_kind: string;
  actor_id: string | null;
  before: unknown;
  after: unknown;
  details: unknown;
  occurred_at: Date;
}

/**
 * What append_audit_event takes: the event's values, and the canonical JSON of the row in three pieces
 * around the two values only known under the chain's lock.
 */
export interface AuditAppend extends AuditEventValues {
  material: readonly [string, string, string];
}

/** The append as a call to place in a statement (`select <call>`, or inside a caller's own statement). */
export function appendAuditEventCall(row: AuditAppend): RawBuilder<unknown> {
  const [head, middle, tail] = row.material;
  return sql`append_audit_event(${row.subject_type}, ${row.subject_id}, ${row.event}, ${row.actor_kind}, ${row.actor_id},
      ${JSON.stringify(row.before)}::jsonb, ${JSON.stringify(row.after)}::jsonb, ${JSON.stringify(row.details)}::jsonb, ${row.occurred_at}, ${head}, ${middle}, ${tail})`;
}

export async function runAuditAppend(trx: Transaction<Database>, call: RawBuilder<unknown>): Promise<void> {
  await sql`select ${call}`.execute(trx);
}

/** One subject's chain, in order. */
export function listChain(db: Kysely<Database>, subjectType: AuditSubjectType, subjectId: string): Promise<AuditEventRow[]> {
  return db
    .selectFrom('audit_event')
    .selectAll()
    .where('subject_type', '=', subjectType)
    .where('subject_id', '=', subjectId)
    .orderBy('seq')
    .execute();
}

/** A page of the whole trail in (subject, seq) order, after the given link. */
export function listTrailPage(
  db: Kysely<Database>,
  limit: number,
  after?: { type: string; id: string; seq: number },
): Promise<AuditEventRow[]> {
  let query = db.selectFrom('audit_event').selectAll().orderBy('subject_type').orderBy('subject_id').orderBy('seq').limit(limit);
  if (after) query = query.where(sql<boolean>`(subject_type, subject_id, seq) > (${after.type}, ${after.id}, ${after.seq})`);
  return query.execute();
}

/** Events of one subject, or of every subject within [from, to), oldest first. */
export function listEventsForExport(
  db: Kysely<Database>,
  filter: { subject?: { type: AuditSubjectType; id: string }; from?: Date; to?: Date; limit: number },
): Promise<AuditEventRow[]> {
  let query = db
    .selectFrom('audit_event')
    .selectAll()
    .orderBy('occurred_at')
    .orderBy('subject_type')
    .orderBy('subject_id')
    .orderBy('seq')
    .limit(filter.limit);
  if (filter.subject) query = query.where('subject_type', '=', filter.subject.type).where('subject_id', '=', filter.subject.id);
  if (filter.from) query = query.where('occurred_at', '>=', filter.from);
  if (filter.to) query = query.where('occurred_at', '<', filter.to);
  return query.execute();
}

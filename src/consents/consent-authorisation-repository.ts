import { type Kysely, sql, type Transaction } from 'kysely';
import type { ConsentAuthorisationApproach, Database } from '../db/schema.ts';
import type { ConsentAuthorisation } from './consent-authorisation.ts';

/** The consent_authorisation table: plain functions, the transaction passed in where one is needed. */

type Executor = Kysely<Database> | Transaction<Database>;

const COLUMNS = ['id', 'consent_id as consentId', 'approach', 'created_at as createdAt'] as const;

export function insertAuthorisation(
  trx: Transaction<Database>,
  consentId: string,
  approach: ConsentAuthorisationApproach,
): Promise<ConsentAuthorisation> {
  // The clock at insert, not the transaction's start: authorisations are started under the consent's lock,
  // so a later one, whose transaction may have begun first and waited, still sorts after.
  return trx
    .insertInto('consent_authorisation')
    .values({ consent_id: consentId, approach, created_at: sql<Date>`clock_timestamp()` })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
}

/** A consent's authorisations, oldest first (ties, within one transaction, by id). */
export function listAuthorisations(db: Executor, consentId: string): Promise<ConsentAuthorisation[]> {
  return db
    .selectFrom('consent_authorisation')
    .select(COLUMNS)
    .where('consent_id', '=', consentId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

import type { EventEmitter } from 'node:events';
import { sql } from 'kysely';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Db } from '../db/connect.ts';
import { CONSENT_USED_EVENT } from '../oidc/consent-binding-hooks.ts';

/**
 * When a TPP last used each consent, for the dashboard. Coarse on purpose: each process writes at most
 * once a minute per consent, and the conditional upsert keeps several processes to about that too, so
 * token issuance and introspection never wait on a write per request.
 */

const RESOLUTION_MS = 60_000;
const recentlyRecorded = new Map<string, number>();

/** Call where a token for the consent is issued or introspected. */
export async function recordConsentUse(db: Db, consentId: string, now = Date.now()): Promise<void> {
  const last = recentlyRecorded.get(consentId);
  if (last !== undefined && now - last < RESOLUTION_MS) return;
  recentlyRecorded.set(consentId, now);
  if (recentlyRecorded.size > 10_000) {
    for (const [id, at] of recentlyRecorded) if (now - at >= RESOLUTION_MS) recentlyRecorded.delete(id);
  }
  await db
    .insertInto('consent_last_use')
    .values({ consent_id: consentId, last_used_at: sql<Date>`now()` })
    .onConflict((oc) =>
      oc.column('consent_id')
        .doUpdateSet({ last_used_at: sql<Date>`now()` })
        .where('consent_last_use.last_used_at', '<', sql<Date>`now() - interval '1 minute'`),
    )
    .execute();
}

export async function lastUses(db: Db, consentIds: readonly string[]): Promise<Map<string, Date>> {
  if (consentIds.length === 0) return new Map();
  const rows = await db.selectFrom('consent_last_use').selectAll().where('consent_id', 'in', consentIds).execute();
  return new Map(rows.map((row) => [row.consent_id, row.last_used_at]));
}

function consentIdsOf(details: unknown): string[] {
  if (!Array.isArray(details)) return [];
  return details.flatMap((detail) => (typeof detail?.consent_id === 'string' ? [detail.consent_id as string] : []));
}

/**
 * Notes a use whenever a token bound to a consent is issued (or refreshed) and whenever one is
 * introspected. A failed write is logged, never allowed to fail the token request.
 */
export function recordConsentUseFrom(provider: Provider, db: Db, logger: Logger) {
  const record = (details: unknown) => {
    for (const consentId of consentIdsOf(details)) {
      recordConsentUse(db, consentId).catch((error: unknown) => logger.warn({ err: error, consentId }, 'could not record consent use'));
    }
  };
  provider.on('access_token.saved', (token: { rar?: unknown }) => record(token.rar));
  // Assent's own event: the library's typings know only its built-in event names.
  (provider as unknown as EventEmitter).on(CONSENT_USED_EVENT, record);
}

import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../../src/db/connect.ts';
import { type ScaProgress, type TakenDecision, touchScaProgressReading } from '../../src/interactions/sca-progress-repository.ts';
import { createModelFind } from '../../src/store/adapter.ts';

/**
 * The pages' activity statement as the journey runs it, for tests below the HTTP layer: interaction `uid`
 * is stored first (live for an hour, as oidc-provider would have stored it), so activity is recorded.
 */
export async function touchStoredInteraction<T extends object>(
  db: Db,
  uid: string,
  idleSeconds: number,
  alongside: RawBuilder<T>,
  now = new Date(),
): Promise<{ progress: ScaProgress; alongside: T; decided: TakenDecision | undefined }> {
  await sql`insert into oidc_model (model, id, payload, expires_at) values ('Interaction', ${uid}, ${JSON.stringify({ uid })}::jsonb, now() + interval '1 hour') on conflict do nothing`.execute(
    db,
  );
  const { found, ...read } = await touchScaProgressReading(
    db,
    uid,
    idleSeconds,
    createModelFind(db).within('Interaction', uid).row,
    alongside,
    now,
  );
  if (found === null) throw new Error(`interaction ${uid} was not read with its activity`);
  return read;
}

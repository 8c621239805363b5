import type { Provider } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Logger } from 'pino';
import { appendAuditEvent } from '../audit/audit-trail.ts';
import type { Db } from '../db/connect.ts';
import { replaceKeystore } from '../engine/engine-internals.ts';
import { FAPI_ALGORITHMS } from '../protocol/algorithms.ts';
import { generateSigningKey, loadServerKeys, lockServerSecrets } from './keys.ts';

export interface RotationPlan {
  /** Time for every process and every relying party's JWKS cache to see the new keys before they sign. */
  activationDelaySeconds: number;
  /** How long superseded keys stay published after the new ones activate: the life of what they signed. */
  retireAfterSeconds: number;
}

export interface Rotation {
  created: { kid: string; alg: string; activatesAt: Date }[];
  retiring: { kid: string; retiresAt: Date }[];
}

/**
 * Publishes a new PS256 + ES256 pair now, lets it sign only after the activation delay, and schedules
 * the keys it supersedes to leave the JWKS once their last signatures have expired.
 */
export async function rotateSigningKeys(db: Db, plan: RotationPlan, now = new Date()): Promise<Rotation> {
  const activatesAt = new Date(now.getTime() + plan.activationDelaySeconds * 1000);
  const retiresAt = new Date(activatesAt.getTime() + plan.retireAfterSeconds * 1000);
  return db.transaction().execute(async (trx) => {
    await lockServerSecrets(trx);
    const superseded = await trx
      .updateTable('server_secret')
      .set({ retires_at: retiresAt })
      .where('kind', '=', 'signing')
      .where('retires_at', 'is', null)
      .returning('id')
      .execute();
    const created: Rotation['created'] = [];
    for (const alg of FAPI_ALGORITHMS) {
      const jwk = await generateSigningKey(alg);
      await trx.insertInto('server_secret').values({ id: jwk.kid!, kind: 'signing', material: JSON.stringify(jwk), activates_at: activatesAt }).execute();
      created.push({ kid: jwk.kid!, alg, activatesAt });
    }
    const retiring = superseded.map((row) => ({ kid: row.id, retiresAt }));
    for (const key of created) {
      await appendAuditEvent(trx, {
        subjectType: 'key',
        subjectId: key.kid,
        event: 'signing_key.created',
        actor: { kind: 'operator', id: null },
        after: { alg: key.alg, activatesAt: key.activatesAt.toISOString() },
      });
    }
    for (const key of retiring) {
      await appendAuditEvent(trx, {
        subjectType: 'key',
        subjectId: key.kid,
        event: 'signing_key.retirement_scheduled',
        actor: { kind: 'operator', id: null },
        after: { retiresAt: key.retiresAt.toISOString() },
      });
    }
    return { created, retiring };
  });
}

const fingerprint = (keys: JWK[]) => keys.map((key) => `${key.kid}:${key.key_ops?.join('+') ?? 'sign'}`).join();

/**
 * Re-reads the signing keys every interval, so keys rotated by any process get published here and
 * start or stop signing on schedule without a restart. Returns a function that stops the watch.
 */
export function watchSigningKeys(options: {
  db: Db;
  provider: Provider;
  initial: JWK[];
  intervalSeconds: number;
  logger: Logger;
  onChange: (keys: JWK[]) => void;
}): () => void {
  let current = fingerprint(options.initial);
  const timer = setInterval(() => {
    loadServerKeys(options.db, { devMode: false, signingKeysFile: undefined }).then(
      ({ signing }) => {
        const next = fingerprint(signing);
        if (next === current) return;
        replaceKeystore(options.provider, signing);
        current = next;
        options.onChange(signing);
        options.logger.info({ keys: signing.map((key) => ({ kid: key.kid, alg: key.alg, signs: key.key_ops === undefined })) }, 'signing keys changed');
      },
      (error: unknown) => options.logger.warn({ err: error }, 'signing key refresh failed'),
    );
  }, options.intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

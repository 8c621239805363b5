import type { Provider } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Logger } from 'pino';
import { appendAuditEvent } from '../audit/audit-trail.ts';
import type { Db } from '../db/connect.ts';
import { replaceKeystore } from '../engine/engine-internals.ts';
import { FAPI_ALGORITHMS } from '../protocol/algorithms.ts';
import { insertServerSecrets, listServerSecrets, lockServerSecrets, retireSigningKeysBy } from '../store/server-secrets.ts';
import { generateSigningKey, loadServerKeys, signingKeysAt } from './keys.ts';

export interface RotationPlan {
  /** Time for every process and every relying party's JWKS cache to see the new keys before they sign. */
  activationDelaySeconds: number;
  /** How long superseded keys stay published after the new ones activate: the life of what they signed. */
  retireAfterSeconds: number;
  /**
   * Set when the current keys are compromised (`keys:withdraw`): with no delay and no retirement
   * period, they leave the JWKS at once and the new keys sign at once; audited with this reason.
   */
  compromised?: string;
}

export interface Rotation {
  created: { kid: string; alg: string; activatesAt: Date }[];
  retiring: { kid: string; retiresAt: Date }[];
}

/**
 * Publishes a new PS256 + ES256 pair now, lets it sign only after the activation delay, and schedules
 * the keys it supersedes to leave the JWKS once their last signatures have expired.
 */
export async function rotateSigningKeys(db: Db, plan: RotationPlan, operatorId: string | null = null, now = new Date()): Promise<Rotation> {
  const activatesAt = new Date(now.getTime() + plan.activationDelaySeconds * 1000);
  const retiresAt = new Date(activatesAt.getTime() + plan.retireAfterSeconds * 1000);
  return db.transaction().execute(async (trx) => {
    await lockServerSecrets(trx);
    const superseded = await retireSigningKeysBy(trx, retiresAt);
    const created: Rotation['created'] = [];
    for (const alg of FAPI_ALGORITHMS) {
      const jwk = await generateSigningKey(alg);
      await insertServerSecrets(trx, [{ id: jwk.kid!, kind: 'signing', material: JSON.stringify(jwk), activates_at: activatesAt }]);
      created.push({ kid: jwk.kid!, alg, activatesAt });
    }
    const retiring = superseded.map((kid) => ({ kid, retiresAt }));
    for (const key of created) {
      await appendAuditEvent(trx, {
        subjectType: 'key',
        subjectId: key.kid,
        event: 'signing_key.created',
        actor: { kind: 'operator', id: operatorId },
        after: { alg: key.alg, activatesAt: key.activatesAt.toISOString() },
      });
    }
    for (const key of retiring) {
      await appendAuditEvent(trx, {
        subjectType: 'key',
        subjectId: key.kid,
        event: plan.compromised ? 'signing_key.withdrawn' : 'signing_key.retirement_scheduled',
        actor: { kind: 'operator', id: operatorId },
        after: { retiresAt: key.retiresAt.toISOString() },
        ...(plan.compromised && { details: { reason: plan.compromised } }),
      });
    }
    return { created, retiring };
  });
}

export interface SigningKeyState {
  kid: string;
  alg: string;
  /** signing: signs now; verify-only: published, not yet active or superseded; retired: no longer published. */
  state: 'signing' | 'verify-only' | 'retired';
  createdAt: Date;
  activatesAt: Date | null;
  retiresAt: Date | null;
}

/** Every signing key in the database with its state at `now` (public facts only, never key material). */
export async function listSigningKeys(db: Db, now = new Date()): Promise<SigningKeyState[]> {
  const rows = (await listServerSecrets(db)).filter((row) => row.kind === 'signing');
  const stored = rows.map((row) => ({
    jwk: row.material as JWK,
    createdAt: row.created_at,
    activatesAt: row.activates_at,
    retiresAt: row.retires_at,
  }));
  const published = new Map(signingKeysAt(stored, now).map((jwk) => [jwk.kid, jwk]));
  return stored.map((key) => {
    const jwk = published.get(key.jwk.kid);
    const state = !jwk ? 'retired' : jwk.key_ops?.includes('verify') && !jwk.key_ops.includes('sign') ? 'verify-only' : 'signing';
    return {
      kid: key.jwk.kid!,
      alg: String(key.jwk.alg),
      state,
      createdAt: key.createdAt,
      activatesAt: key.activatesAt,
      retiresAt: key.retiresAt,
    };
  });
}

const fingerprint = (keys: JWK[]) => keys.map((key) => `${key.kid}:${key.key_ops?.join('+') ?? 'sign'}`).join();

export interface SigningKeyWatch {
  /** Re-reads the keys now (after an emergency rotation here), without waiting for the interval. */
  refreshNow(): Promise<void>;
  stop(): void;
}

/**
 * Re-reads the signing keys every interval, so keys rotated by any process get published here and
 * start or stop signing on schedule without a restart.
 */
export function watchSigningKeys(options: {
  db: Db;
  provider: Provider;
  initial: JWK[];
  intervalSeconds: number;
  logger: Logger;
  onChange: (keys: JWK[]) => void;
}): SigningKeyWatch {
  let current = fingerprint(options.initial);
  const refreshNow = async () => {
    const { signing } = await loadServerKeys(options.db, { devMode: false, signingKeysFile: undefined });
    const next = fingerprint(signing);
    if (next === current) return;
    replaceKeystore(options.provider, signing);
    current = next;
    options.onChange(signing);
    options.logger.info(
      { keys: signing.map((key) => ({ kid: key.kid, alg: key.alg, signs: key.key_ops === undefined })) },
      'signing keys changed',
    );
  };
  const timer = setInterval(() => {
    refreshNow().catch((error: unknown) => options.logger.warn({ err: error }, 'signing key refresh failed'));
  }, options.intervalSeconds * 1000);
  timer.unref();
  return { refreshNow, stop: () => clearInterval(timer) };
}

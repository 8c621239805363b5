import { hkdfSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Db } from '../db/connect.ts';
import { insertServerSecrets, listServerSecrets, lockServerSecrets, storedSecretKinds } from '../store/server-secrets.ts';
import { FAPI_ALGORITHMS, type FapiAlgorithm } from '../protocol/algorithms.ts';

export interface ServerKeys {
  /** Private signing JWKs, each with `kid`, `alg` and `use`. */
  signing: JWK[];
  /** Keys for oidc-provider's signed cookies, newest first. */
  cookie: string[];
}

export class KeysUnavailable extends Error {
  override name = 'KeysUnavailable';
}

export async function generateSigningKey(alg: FapiAlgorithm): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'PS256' && { modulusLength: 2048 }) });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg, use: 'sig', kid: await calculateJwkThumbprint(jwk) };
}

async function readSigningKeysFile(file: string): Promise<JWK[]> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as { keys?: JWK[] };
  const keys = parsed.keys ?? [];
  if (keys.length === 0 || keys.some((key) => !key.d || !key.kid)) {
    throw new KeysUnavailable(`${file} must be a JWKS of private keys, each with a kid`);
  }
  return keys;
}

export interface StoredSigningKey {
  jwk: JWK;
  createdAt: Date;
  activatesAt: Date | null;
  retiresAt: Date | null;
}

/**
 * The signing keys a process holds at `now`. Retired keys are gone. Per algorithm, the most recently
 * activated key signs; every other live key (not yet active, or superseded and kept so that what it
 * signed still verifies) is published with `key_ops: ["verify"]`, which also keeps oidc-provider from
 * signing with it.
 */
export function signingKeysAt(stored: StoredSigningKey[], now: Date): JWK[] {
  const live = stored.filter((key) => key.retiresAt === null || key.retiresAt > now);
  const activeFrom = (key: StoredSigningKey) => (key.activatesAt ?? key.createdAt).getTime();
  const signers = new Map<string | undefined, StoredSigningKey>();
  for (const key of live) {
    if (activeFrom(key) > now.getTime()) continue;
    const current = signers.get(key.jwk.alg);
    if (!current || activeFrom(key) > activeFrom(current)) signers.set(key.jwk.alg, key);
  }
  const signing = live.filter((key) => signers.get(key.jwk.alg) === key).map((key) => key.jwk);
  const verifyOnly = live.filter((key) => signers.get(key.jwk.alg) !== key).map((key): JWK => ({ ...key.jwk, key_ops: ['verify'] }));
  return [...signing, ...verifyOnly];
}

async function storedKeys(db: Db): Promise<ServerKeys> {
  const rows = await listServerSecrets(db);
  const signing = rows
    .filter((row) => row.kind === 'signing')
    .map((row) => ({ jwk: row.material as JWK, createdAt: row.created_at, activatesAt: row.activates_at, retiresAt: row.retires_at }));
  return {
    signing: signingKeysAt(signing, new Date()),
    cookie: rows.filter((row) => row.kind === 'cookie').map((row) => String(row.material.key)),
  };
}

/**
 * Generates the missing key kinds once per database: the lock makes concurrent first starts of several
 * processes agree on one set.
 */
async function generateMissing(db: Db, withSigning: boolean): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await lockServerSecrets(trx);
    const kinds = await storedSecretKinds(trx);
    const rows: { id: string; kind: 'signing' | 'cookie'; material: string }[] = [];
    if (withSigning && !kinds.has('signing')) {
      // Assent signs with one key of each algorithm FAPI allows.
      for (const alg of FAPI_ALGORITHMS) {
        const jwk = await generateSigningKey(alg);
        rows.push({ id: jwk.kid!, kind: 'signing', material: JSON.stringify(jwk) });
      }
    }
    if (!kinds.has('cookie')) {
      const key = randomBytes(32).toString('base64url');
      rows.push({ id: `cookie-${Date.now()}`, kind: 'cookie', material: JSON.stringify({ key }) });
    }
    await insertServerSecrets(trx, rows);
  });
}

/**
 * Signing keys come from SIGNING_KEYS_FILE when set, else from the database, and only dev mode
 * generates them. Cookie keys are generated on first start in every mode. Every process on one
 * database therefore signs, verifies and reads cookies with the same keys.
 */
export async function loadServerKeys(db: Db, options: { devMode: boolean; signingKeysFile: string | undefined }): Promise<ServerKeys> {
  let keys = await storedKeys(db);
  const signingFromDb = !options.signingKeysFile;
  if (keys.cookie.length === 0 || (signingFromDb && keys.signing.length === 0)) {
    await generateMissing(db, signingFromDb && options.devMode);
    keys = await storedKeys(db);
  }
  if (!signingFromDb) return { ...keys, signing: await readSigningKeysFile(options.signingKeysFile!) };
  if (keys.signing.length === 0) {
    throw new KeysUnavailable('no signing keys: set SIGNING_KEYS_FILE to a private JWKS (only dev mode generates keys)');
  }
  return keys;
}

/**
 * The secret DPoP nonces are derived from (RFC 9449 section 8), at the provider's endpoints and Assent's
 * own: every process on one database holds the same cookie key, so a nonce one instance hands out is
 * good at every other, with nothing written per request. Derived, not the cookie key itself, so a nonce
 * says nothing about the key that signs cookies.
 */
export function dpopNonceSecret(keys: Pick<ServerKeys, 'cookie'>): Buffer {
  const [newest] = keys.cookie;
  if (!newest) throw new KeysUnavailable('no cookie key to derive the DPoP nonce secret from');
  return Buffer.from(hkdfSync('sha256', newest, '', 'assent dpop nonce secret', 32));
}

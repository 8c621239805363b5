import argon2 from 'argon2';

/** OWASP's argon2id baseline (m=19 MiB, t=2, p=1); the parameters travel inside each hash. */
const PARAMETERS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, PARAMETERS);
}

export function verifyPassword(hash: string, password: string): Promise<boolean> {
  return argon2.verify(hash, password);
}

let decoy: Promise<string> | undefined;

/** A hash to verify against when the username is unknown, so both cases cost one argon2 run. */
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(crypto.randomUUID());
  return decoy;
}

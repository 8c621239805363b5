import { Secret, TOTP } from 'otpauth';

/** RFC 6238 as every authenticator app implements it: SHA-1, 6 digits, 30-second steps. */
const PERIOD = 30;
/** One step either side of now tolerates clock drift and a code typed just as it rolls over. */
const WINDOW = 1;

function totp(secret: string, username = '', issuer = '') {
  return new TOTP({ issuer, label: username, algorithm: 'SHA1', digits: 6, period: PERIOD, secret: Secret.fromBase32(secret) });
}

export function generateTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://` URI an authenticator app enrols from; `issuer` is the bank's name the app shows (BANK_NAME). */
export function otpauthUri(secret: string, username: string, issuer: string): string {
  return totp(secret, username, issuer).toString();
}

export function currentTotpCode(secret: string, now = Date.now()): string {
  return totp(secret).generate({ timestamp: now });
}

export function totpStep(now = Date.now()): number {
  return Math.floor(now / 1000 / PERIOD);
}

/** The time step the code belongs to, within one step of now; undefined when it matches none. */
export function matchTotpStep(secret: string, code: string, now = Date.now()): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = totp(secret).validate({ token: code, timestamp: now, window: WINDOW });
  return delta === null ? undefined : totpStep(now) + delta;
}

/**
 * Exact money arithmetic for VRP limits: decimal strings with at most two fraction digits become
 * integer minor units (bigint) and back. No float ever holds an amount.
 */

const DECIMAL = /^(\d{1,13})(?:\.(\d{1,2}))?$/;

export function toMinorUnits(amount: string): bigint {
  const match = DECIMAL.exec(amount);
  if (!match) throw new RangeError(`not a decimal amount with at most two fraction digits: ${amount}`);
  return BigInt(match[1]!) * 100n + BigInt((match[2] ?? '').padEnd(2, '0'));
}

/** "1000.00" from 100000n; negative amounts keep their sign. */
export function fromMinorUnits(minor: bigint): string {
  const sign = minor < 0n ? '-' : '';
  const absolute = minor < 0n ? -minor : minor;
  return `${sign}${absolute / 100n}.${String(absolute % 100n).padStart(2, '0')}`;
}

/** The canonical two-digit form ("250" -> "250.00"), so equal amounts compare equal as strings. */
export function canonicalAmount(amount: string): string {
  return fromMinorUnits(toMinorUnits(amount));
}

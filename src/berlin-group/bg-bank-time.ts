/**
 * The bank's calendar: NextGenPSD2 dates (validUntil, lastActionDate, requestedExecutionDate) are "the local
 * ASPSP date", and frequencyPerDay counts per day of it. The bank's time zone is this one constant until the
 * configuration has a BANK_TIME_ZONE setting; the integration replaces it there, in this one place.
 */
export const BANK_TIME_ZONE = 'Europe/Berlin';

const parts = new Intl.DateTimeFormat('en-CA', {
  timeZone: BANK_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

function fieldsAt(instant: Date): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number> {
  const found = Object.fromEntries(parts.formatToParts(instant).map((part) => [part.type, Number(part.value)]));
  return { year: found.year!, month: found.month!, day: found.day!, hour: found.hour!, minute: found.minute!, second: found.second! };
}

/** How far the bank's wall clock is ahead of UTC at `instant`, in milliseconds. */
function offsetAt(instant: number): number {
  const wall = fieldsAt(new Date(instant));
  return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second) - Math.floor(instant / 1000) * 1000;
}

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/** The bank's date (YYYY-MM-DD) at `instant`. */
export function bankDateOf(instant: Date): string {
  const { year, month, day } = fieldsAt(instant);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** The first instant of a bank date (midnight there; the bank's DST changes never fall on midnight). */
export function startOfBankDate(date: string): Date {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const wallAsUtc = Date.UTC(year, month - 1, day);
  const first = wallAsUtc - offsetAt(wallAsUtc);
  return new Date(wallAsUtc - offsetAt(first));
}

/** The bank date `days` after `date` (negative: before). */
export function addDays(date: string, days: number): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const moved = new Date(Date.UTC(year, month - 1, day + days));
  return `${pad(moved.getUTCFullYear(), 4)}-${pad(moved.getUTCMonth() + 1, 2)}-${pad(moved.getUTCDate(), 2)}`;
}

/** The instant a consent valid until `date` (that date included) ends: the start of the next bank date. */
export function endOfBankDate(date: string): Date {
  return startOfBankDate(addDays(date, 1));
}

/** The last bank date a consent ending at `expiresAt` is valid on (inverse of endOfBankDate). */
export function lastBankDateBefore(expiresAt: Date): string {
  return bankDateOf(new Date(expiresAt.getTime() - 1));
}

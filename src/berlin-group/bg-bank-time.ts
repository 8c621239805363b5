/**
 * The bank's calendar: NextGenPSD2 dates (validUntil, lastActionDate, requestedExecutionDate) are "the local
 * ASPSP date", and frequencyPerDay counts per day of it. One zone for the whole bank: BANK_TIME_ZONE, the
 * zone the bank API counts accesses in (consents/consent-access.ts) and the customer's pages show.
 */

export interface BankCalendar {
  timeZone: string;
  /** The bank's date (YYYY-MM-DD) at `instant`. */
  dateOf(instant: Date): string;
  /** The first instant of a bank date (midnight there; DST changes never fall on midnight in the zones banks use). */
  startOf(date: string): Date;
  /** The instant a consent valid until `date` (that date included) ends: the start of the next bank date. */
  endOf(date: string): Date;
  /** The last bank date a consent ending at `expiresAt` is valid on (inverse of endOf). */
  lastDateBefore(expiresAt: Date): string;
}

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/** The bank date `days` after `date` (negative: before): calendar arithmetic, the same in every zone. */
export function addDays(date: string, days: number): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const moved = new Date(Date.UTC(year, month - 1, day + days));
  return `${pad(moved.getUTCFullYear(), 4)}-${pad(moved.getUTCMonth() + 1, 2)}-${pad(moved.getUTCDate(), 2)}`;
}

export function bankCalendar(timeZone: string): BankCalendar {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  const fieldsAt = (instant: Date) => {
    const found = Object.fromEntries(parts.formatToParts(instant).map((part) => [part.type, Number(part.value)]));
    return { year: found.year!, month: found.month!, day: found.day!, hour: found.hour!, minute: found.minute!, second: found.second! };
  };
  /** How far the bank's wall clock is ahead of UTC at `instant`, in milliseconds. */
  const offsetAt = (instant: number) => {
    const wall = fieldsAt(new Date(instant));
    return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second) - Math.floor(instant / 1000) * 1000;
  };
  const dateOf = (instant: Date) => {
    const { year, month, day } = fieldsAt(instant);
    return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
  };
  const startOf = (date: string) => {
    const [year, month, day] = date.split('-').map(Number) as [number, number, number];
    const wallAsUtc = Date.UTC(year, month - 1, day);
    const first = wallAsUtc - offsetAt(wallAsUtc);
    return new Date(wallAsUtc - offsetAt(first));
  };
  return {
    timeZone,
    dateOf,
    startOf,
    endOf: (date) => startOf(addDays(date, 1)),
    lastDateBefore: (expiresAt) => dateOf(new Date(expiresAt.getTime() - 1)),
  };
}

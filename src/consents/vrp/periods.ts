import type { PeriodAlignment, PeriodType } from './vrp-terms.ts';

/**
 * Which period of a VRP periodic limit an instant falls in, in the bank's time zone (Europe/London):
 * periods run from a London midnight to a London midnight, whatever the UTC offset on either side.
 *
 * Calendar alignment: days; weeks from Monday; months from the 1st; half-years from 1 January and
 * 1 July; years from 1 January. UK OB defines no calendar fortnight (validation refuses it).
 * Consent alignment: periods start on the London day of the consent's start and repeat every 1, 7 or
 * 14 days, or every 1, 6 or 12 months on the same day of the month; a month without that day ends
 * the period on its last day (31 Jan -> 28/29 Feb -> 31 Mar), and the day comes back after it.
 */

export const BANK_TIME_ZONE = 'Europe/London';

export interface Period {
  start: Date;
  /** Exclusive. */
  end: Date;
}

/** A civil date, counted in days since 1970-01-01 (no time zone, no time of day). */
type Day = number;

const MS_PER_DAY = 86_400_000;

const LONDON_DATE = new Intl.DateTimeFormat('en-GB', { timeZone: BANK_TIME_ZONE, year: 'numeric', month: 'numeric', day: 'numeric' });
const LONDON_OFFSET = new Intl.DateTimeFormat('en-GB', { timeZone: BANK_TIME_ZONE, timeZoneName: 'longOffset' });

const dayOf = (year: number, month: number, date: number): Day => Date.UTC(year, month - 1, date) / MS_PER_DAY;

function civil(day: Day) {
  const at = new Date(day * MS_PER_DAY);
  return { year: at.getUTCFullYear(), month: at.getUTCMonth() + 1, date: at.getUTCDate(), weekday: at.getUTCDay() };
}

/** The London calendar day an instant falls on. */
export function londonDay(instant: Date): Day {
  const parts = Object.fromEntries(LONDON_DATE.formatToParts(instant).map((part) => [part.type, Number(part.value)]));
  return dayOf(parts.year!, parts.month!, parts.day!);
}

/** London's UTC offset at an instant, in minutes (0 in winter, 60 in summer). */
function londonOffsetMinutes(instant: Date): number {
  const name = LONDON_OFFSET.formatToParts(instant).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  if (!match) return 0;
  return (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
}

/**
 * The instant a London day begins. UK clocks change at 01:00 UTC, never at midnight, so the offset
 * in force an hour either side of midnight is the offset at midnight.
 */
function londonMidnight(day: Day): Date {
  const utcMidnight = day * MS_PER_DAY;
  return new Date(utcMidnight - londonOffsetMinutes(new Date(utcMidnight)) * 60_000);
}

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** `anchor` moved by whole months, keeping its day of the month where the month has it. */
function addMonths(anchor: Day, months: number): Day {
  const { year, month, date } = civil(anchor);
  const index = year * 12 + (month - 1) + months;
  const targetYear = Math.floor(index / 12);
  const targetMonth = (index % 12) + 1;
  return dayOf(targetYear, targetMonth, Math.min(date, daysInMonth(targetYear, targetMonth)));
}

const MONTHS: Partial<Record<PeriodType, number>> = { Month: 1, 'Half-year': 6, Year: 12 };
const DAYS: Partial<Record<PeriodType, number>> = { Day: 1, Week: 7, Fortnight: 14 };

function calendarPeriod(type: PeriodType, today: Day): [Day, Day] {
  const { year, month, weekday } = civil(today);
  switch (type) {
    case 'Day':
      return [today, today + 1];
    case 'Week': {
      const monday = today - ((weekday + 6) % 7);
      return [monday, monday + 7];
    }
    case 'Month':
      return [dayOf(year, month, 1), dayOf(year, month + 1, 1)];
    case 'Half-year':
      return month <= 6 ? [dayOf(year, 1, 1), dayOf(year, 7, 1)] : [dayOf(year, 7, 1), dayOf(year + 1, 1, 1)];
    case 'Year':
      return [dayOf(year, 1, 1), dayOf(year + 1, 1, 1)];
    case 'Fortnight':
      throw new RangeError('UK Open Banking defines no calendar-aligned fortnight');
  }
}

function consentPeriod(type: PeriodType, anchor: Day, today: Day): [Day, Day] {
  const days = DAYS[type];
  if (days !== undefined) {
    const start = anchor + Math.floor((today - anchor) / days) * days;
    return [start, start + days];
  }
  const step = MONTHS[type]!;
  const a = civil(anchor);
  const t = civil(today);
  let n = Math.floor(((t.year - a.year) * 12 + (t.month - a.month)) / step);
  if (addMonths(anchor, n * step) > today) n -= 1;
  return [addMonths(anchor, n * step), addMonths(anchor, (n + 1) * step)];
}

/** The period of a limit that `now` falls in; `consentStart` anchors consent-aligned periods. */
export function periodAt(limit: { PeriodType: PeriodType; PeriodAlignment: PeriodAlignment }, consentStart: Date, now: Date): Period {
  const today = londonDay(now);
  const [start, end] =
    limit.PeriodAlignment === 'Calendar'
      ? calendarPeriod(limit.PeriodType, today)
      : consentPeriod(limit.PeriodType, londonDay(consentStart), today);
  return { start: londonMidnight(start), end: londonMidnight(end) };
}

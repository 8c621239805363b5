import { BANK_TIME_ZONE } from './periods.ts';
import { isSweeping, type PeriodicLimit, validTo, type VrpTerms } from './vrp-terms.ts';

/**
 * A VRP consent's limits in the customer's words ("up to £250 a payment, at most £1,000 a calendar
 * month, until 30 June 2027, to ACME Savings"). The consent page, the one-time-code page and the
 * dashboard all read them from here, so the customer is told the same thing each time.
 */

export interface VrpWording {
  /** What the customer agrees to, in one sentence without the leading verb. */
  summary: string;
  perPayment: string;
  limits: string[];
  validity: string;
  payee: string;
  /** Moving money between the customer's own accounts, rather than paying someone else. */
  sweeping: boolean;
}

const DAY = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: BANK_TIME_ZONE });

/** "£1,000" or "£1,000.50": thousands grouped and whole amounts without pence, from the decimal string (never a float). */
export function moneyInWords(amount: string, currency: string): string {
  const [whole = '0', pence = '00'] = amount.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const figure = /^0*$/.test(pence) ? grouped : `${grouped}.${pence.padEnd(2, '0')}`;
  const symbol = new Intl.NumberFormat('en-GB', { style: 'currency', currency }).formatToParts(0).find((part) => part.type === 'currency')?.value;
  return symbol && symbol !== currency ? `${symbol}${figure}` : `${figure} ${currency}`;
}

const CALENDAR: Record<PeriodicLimit['PeriodType'], string> = {
  Day: 'a day',
  Week: 'a week (Monday to Sunday)',
  Fortnight: 'a fortnight',
  Month: 'a calendar month',
  'Half-year': 'each half-year (January to June, July to December)',
  Year: 'a calendar year',
};

const FROM_START: Record<PeriodicLimit['PeriodType'], string> = {
  Day: 'a day',
  Week: 'every 7 days',
  Fortnight: 'every 14 days',
  Month: 'each month',
  'Half-year': 'every 6 months',
  Year: 'each year',
};

function periodInWords(limit: PeriodicLimit, start: Date): string {
  if (limit.PeriodAlignment === 'Calendar' || limit.PeriodType === 'Day') return CALENDAR[limit.PeriodType];
  return `${FROM_START[limit.PeriodType]} counted from ${DAY.format(start)}`;
}

export function vrpWording(terms: VrpTerms, consentStart: Date): VrpWording {
  const { MaximumIndividualAmount: maximum, PeriodicLimits: periodic, ValidFromDateTime: from } = terms.controlParameters;
  const perPayment = `up to ${moneyInWords(maximum.Amount, maximum.Currency)} a payment`;
  const limits = periodic.map((limit) => `at most ${moneyInWords(limit.Amount, limit.Currency)} ${periodInWords(limit, consentStart)}`);
  const to = validTo(terms);
  const starts = from !== undefined && new Date(from) > new Date() ? `from ${DAY.format(new Date(from))} ` : '';
  const validity = `${starts}${to ? `until ${DAY.format(to)}` : 'until you cancel it'}`;
  const payee = terms.initiation.CreditorAccount.Name ?? 'the payee';
  return { summary: [perPayment, ...limits, validity, `to ${payee}`].join(', '), perPayment, limits, validity, payee, sweeping: isSweeping(terms) };
}

/** What the dashboard calls the current period of a limit ("This month"). */
export const CURRENT_PERIOD: Record<PeriodicLimit['PeriodType'], string> = {
  Day: 'Today',
  Week: 'This week',
  Fortnight: 'These 14 days',
  Month: 'This month',
  'Half-year': 'These 6 months',
  Year: 'This year',
};

import type { Wording } from './wording.ts';

/**
 * A VRP consent's limits in the customer's words ("up to £250 a payment, at most £1,000 a calendar
 * month, until 30 June 2027, to ACME Savings"). The consent page, the one-time-code page and the
 * dashboard all read them from here, in the customer's language, so they are told the same thing each time.
 */

/**
 * UK OB's period types. Spelled out here because wording/ imports nothing of Assent's; a period type
 * added in consents/vrp/ without words here fails to compile where its facts are passed in.
 */
export type VrpPeriodType = 'Day' | 'Week' | 'Fortnight' | 'Month' | 'Half-year' | 'Year';

interface Amount {
  Amount: string;
  Currency: string;
}

/** What the sentence states, as consents/vrp/vrp-terms.ts `vrpFacts` reads it from a consent. */
export interface VrpFacts {
  maximum: Amount;
  limits: readonly (Amount & { PeriodType: VrpPeriodType; PeriodAlignment: 'Consent' | 'Calendar' })[];
  /** Where consent-aligned periods are counted from: ValidFromDateTime or the consent's creation. */
  countedFrom: Date;
  validFrom: Date | undefined;
  validTo: Date | null;
  payee: string | undefined;
  sweeping: boolean;
  /** A commercial mandate's merchant, as the TPP described it; undefined for sweeping (or a mandate that named none). */
  merchant: { name: string; customerReference?: string | undefined } | undefined;
  /** UK OB's PSUInteractionTypes when the consent gave them: whether payments come with the customer present. */
  presence: readonly ('InSession' | 'OffSession')[];
}

export interface VrpWording {
  /** What the customer agrees to, in one sentence without the leading verb. */
  summary: string;
  perPayment: string;
  limits: string[];
  validity: string;
  payee: string;
  /** Moving money between the customer's own accounts, rather than paying someone else. */
  sweeping: boolean;
  /** A commercial mandate: the merchant's name, and the customer's reference with it when given. */
  merchant: { name: string; customerReference: string | undefined } | undefined;
  /** Whether payments come only while the customer is there, or also when not; undefined when the consent does not say. */
  presence: string | undefined;
}

function periodInWords(w: Wording, limit: VrpFacts['limits'][number], start: Date): string {
  if (limit.PeriodAlignment === 'Calendar' || limit.PeriodType === 'Day') return w.t(`vrp.calendar.${limit.PeriodType}`);
  return w.t(`vrp.fromStart.${limit.PeriodType}`, { date: w.day(start) });
}

export function vrpWording(w: Wording, facts: VrpFacts): VrpWording {
  const perPayment = w.t('vrp.perPayment', { amount: w.moneyInWords(facts.maximum.Amount, facts.maximum.Currency) });
  const limits = facts.limits.map((limit) =>
    w.t('vrp.limit', { amount: w.moneyInWords(limit.Amount, limit.Currency), period: periodInWords(w, limit, facts.countedFrom) }),
  );
  const starts =
    facts.validFrom !== undefined && facts.validFrom > new Date() ? `${w.t('vrp.startsOn', { date: w.day(facts.validFrom) })} ` : '';
  const validity = `${starts}${facts.validTo ? w.t('vrp.until', { date: w.day(facts.validTo) }) : w.t('vrp.untilCancelled')}`;
  const payee = facts.payee ?? w.t('vrp.thePayee');
  const merchant = facts.merchant && {
    name: facts.merchant.name,
    customerReference:
      facts.merchant.customerReference === undefined
        ? undefined
        : w.t('vrp.customerReference', { merchant: facts.merchant.name, reference: facts.merchant.customerReference }),
  };
  const presence =
    facts.presence.length === 0
      ? undefined
      : w.t(facts.presence.includes('OffSession') ? 'vrp.presence.offSession' : 'vrp.presence.inSession');
  return {
    summary: [perPayment, ...limits, validity, w.t('vrp.to', { payee })].join(', '),
    perPayment,
    limits,
    validity,
    payee,
    sweeping: facts.sweeping,
    merchant,
    presence,
  };
}

/** What the dashboard calls the current period of a limit ("This month"). */
export function currentPeriod(w: Wording, periodType: VrpPeriodType): string {
  return w.t(`vrp.current.${periodType}`);
}

import type { Wording } from './wording.ts';

/**
 * How often a TPP may read without the customer present (a Berlin Group consent's frequencyPerDay), or
 * that it reads once, in the customer's words; undefined when the consent sets no limit (UK consents).
 * The consent page and the dashboard both say it from here.
 */
export function readFrequencyWords(
  w: Wording,
  consent: { reads: boolean; recurring: boolean; frequencyPerDay: number | null },
  tppName: string,
): string | undefined {
  if (!consent.reads || consent.frequencyPerDay === null) return undefined;
  if (!consent.recurring) return w.t('consent.frequency.once', { tpp: tppName });
  return consent.frequencyPerDay === 1
    ? w.t('consent.frequency.oncePerDay', { tpp: tppName })
    : w.t('consent.frequency.perDay', { tpp: tppName, count: consent.frequencyPerDay });
}

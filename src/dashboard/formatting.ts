/** How the dashboard writes times and amounts: the bank's (UK) conventions, with the time zone shown. */

const WHEN = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'Europe/London',
  timeZoneName: 'short',
});

const DAY = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/London' });

export const formatting = {
  when: (date: Date) => WHEN.format(date),
  day: (date: Date) => DAY.format(date),
  /** Amounts stay decimal strings from the consent to the page; only the currency symbol is added. */
  money: (amount: string, currency: string) =>
    new Intl.NumberFormat('en-GB', { style: 'currency', currency }).formatToParts(0).find((part) => part.type === 'currency')!.value + amount,
};

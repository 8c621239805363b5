import { INTL_LOCALE, type Locale } from './locale.ts';
import { escapeHtml, type MessageKey, type MessageParams, translate, translateHtml } from './messages.ts';

/**
 * The one place that turns facts into the customer's words: every message, date, amount and account
 * label on the authorization pages, the dashboard and the error pages comes from a `Wording`, so the
 * consent page and the dashboard cannot describe the same consent in two ways.
 */

/** The bank's identity on every customer-facing surface (config.ts: BANK_*). */
export interface Branding {
  bankName: string;
  /** https URL or a path on this server; undefined shows the name only. */
  logoUrl: string | undefined;
  colours: { primary: string; onPrimary: string; accent: string };
  /** How customers reach the bank, as printed (a phone number, an email address). */
  supportContact: string | undefined;
  supportUrl: string | undefined;
  /** Where dates and times are shown; the bank's own zone, not the server's. */
  timeZone: string;
}

/** Only https logos are shown: anything else would be mixed content or a local resource. */
export function httpsLogo(uri: string | null | undefined): string | undefined {
  return uri && URL.canParse(uri) && new URL(uri).protocol === 'https:' ? uri : undefined;
}

function fractionDigits(amount: string) {
  return /\.(\d+)$/.exec(amount)?.[1]?.length ?? 0;
}

/** A zone written as an offset from GMT or UTC ("GMT+1"), not by a name. */
const isOffset = (name: string) => /^(GMT|UTC)[+\u2212-]\d/.test(name);

/**
 * A language without a name for the bank's zone writes an offset ("GMT+0", "GMT+1" in German for
 * London); the customer knows the zone by its English name ("GMT", "BST"), so that is shown instead.
 */
function withZoneName(format: Intl.DateTimeFormat, timeZone: string): { format(date: Date): string } {
  const english = new Intl.DateTimeFormat('en-GB', { timeZone, timeZoneName: 'short' });
  return {
    format(date: Date) {
      const own = format.formatToParts(date);
      const zone = own.find((part) => part.type === 'timeZoneName');
      const named = english.formatToParts(date).find((part) => part.type === 'timeZoneName')?.value;
      if (!zone || !isOffset(zone.value) || named === undefined || isOffset(named)) return format.format(date);
      return own.map((part) => (part === zone ? named : part.value)).join('');
    },
  };
}

export function wordingFor(locale: Locale, branding: Branding) {
  const intl = INTL_LOCALE[locale];
  const timeZone = branding.timeZone;
  const day = new Intl.DateTimeFormat(intl, { day: 'numeric', month: 'long', year: 'numeric', timeZone });
  const when = withZoneName(
    new Intl.DateTimeFormat(intl, {
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZone,
      timeZoneName: 'short',
    }),
    timeZone,
  );
  const time = withZoneName(
    new Intl.DateTimeFormat(intl, { hour: '2-digit', minute: '2-digit', timeZone, timeZoneName: 'short' }),
    timeZone,
  );
  // A calendar date (a payment's execution date) is no moment: formatted as the date it names, in no zone's offset.
  const calendarDay = new Intl.DateTimeFormat(intl, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
  const currencies = new Intl.DisplayNames(intl, { type: 'currency' });
  const list = new Intl.ListFormat(intl, { type: 'conjunction' });
  const t = (key: MessageKey, params: MessageParams = {}) => translate(locale, key, { bank: branding.bankName, ...params });

  /** Sort code and account number or IBAN as printed on a statement; other schemes as given. The scheme is the consent model's. */
  function accountNumber(scheme: string, identification: string): string {
    if (scheme === 'sort_code_account' && /^\d{14}$/.test(identification)) {
      const sortCode = `${identification.slice(0, 2)}-${identification.slice(2, 4)}-${identification.slice(4, 6)}`;
      return t('account.sortCode', { sortCode, number: identification.slice(6) });
    }
    if (scheme === 'iban') return t('account.iban', { iban: identification.replace(/(.{4})(?=.)/g, '$1 ') });
    return identification;
  }

  return {
    locale,
    branding,
    t,
    /** "23 February 2027" / "23. Februar 2027", in the bank's time zone. */
    day: (date: Date) => day.format(date),
    /** A calendar date "YYYY-MM-DD" as the bank writes dates ("24 December 2026"), the same day in every time zone. */
    calendarDay: (isoDate: string) => calendarDay.format(new Date(`${isoDate}T00:00:00Z`)),
    /** A moment, with the time zone shown. */
    when: (date: Date) => when.format(date),
    time: (date: Date) => time.format(date),
    /** The consent's decimal string formatted exactly (Intl takes it as a decimal, never a float). */
    money(amount: string, currency: string) {
      // Never fewer digits than the amount has (no rounding), never fewer than the currency shows (3 at most).
      const format = new Intl.NumberFormat(intl, {
        style: 'currency',
        currency,
        maximumFractionDigits: Math.max(fractionDigits(amount), 3),
      });
      return format.format(amount as unknown as number);
    },
    /** For limits in a sentence ("£1,000", "£1,000.50"): whole amounts without their zero pence, otherwise as `money`. */
    moneyInWords(amount: string, currency: string) {
      const format = new Intl.NumberFormat(intl, {
        style: 'currency',
        currency,
        maximumFractionDigits: Math.max(fractionDigits(amount), 3),
        trailingZeroDisplay: 'stripIfInteger',
      });
      return format.format(amount as unknown as number);
    },
    currencyName: (code: string) => t('payment.currencyNamed', { code, name: currencies.of(code) ?? code }),
    accountNumber,
    /** A customer's own account, everywhere: its name and the last four digits of its number. */
    accountLabel(account: { name: string | null | undefined; identification: string }) {
      const last4 = account.identification.slice(-4);
      return account.name ? t('account.ending', { name: account.name, last4 }) : t('account.unnamedEnding', { last4 });
    },
    /** Names in a sentence: "A and B", "A, B and C" / "A und B". */
    list: (items: readonly string[]) => list.format(items),
    /**
     * The sentence as HTML with a link in place of `{placeholder}`, its text the address unless given:
     * the only sentence with markup, so everything else (the catalogue's words, a TPP's or the bank's
     * name, the address) is escaped here. Views print it raw (`<%~ %>`).
     */
    sentenceWithLink(key: MessageKey, params: MessageParams, link: { placeholder: string; href: string; text?: string }) {
      const anchor = `<a href="${escapeHtml(link.href)}">${escapeHtml(link.text ?? link.href)}</a>`;
      return translateHtml(locale, key, { bank: branding.bankName, ...params }, { [link.placeholder]: anchor });
    },
    /** Singular or plural sentence: `<key>.one` for 1, `<key>.other` otherwise. */
    plural(key: 'login.notice.locked' | 'dash.stop.revokesAll' | 'dash.decoupledWaiting', count: number, params: MessageParams = {}) {
      return t(count === 1 ? `${key}.one` : `${key}.other`, { count, ...params });
    },
  };
}

export type Wording = ReturnType<typeof wordingFor>;

/**
 * Which language a customer page is in: the one the customer picked with the switch (`?lang=`, then
 * remembered in a cookie), else the best match of the browser's Accept-Language, else English.
 */

export const LOCALES = ['en', 'de'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';
export const LANGUAGE_COOKIE = 'assent_lang';
/** BCP 47 tags for Intl formatting: UK English, German as written in Germany. */
export const INTL_LOCALE: Record<Locale, string> = { en: 'en-GB', de: 'de-DE' };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** Accept-Language ranges by quality, highest first; the first whose primary subtag we speak wins. */
export function fromAcceptLanguage(header: string | undefined): Locale | undefined {
  if (!header) return undefined;
  const ranges = header
    .slice(0, 512)
    .split(',')
    .flatMap((part, index) => {
      const [range = '', ...params] = part.trim().split(';');
      const q = params.map((param) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(param)?.[1]).find((value) => value !== undefined);
      const quality = q === undefined ? 1 : Number(q);
      return quality > 0 ? [{ primary: range.trim().split('-')[0]!.toLowerCase(), quality, index }] : [];
    });
  ranges.sort((a, b) => b.quality - a.quality || a.index - b.index);
  return ranges.map((range) => range.primary).find(isLocale);
}

export interface LocaleSources {
  /** `?lang=` of this request: the switch. */
  query: unknown;
  cookie: string | undefined;
  acceptLanguage: string | undefined;
}

export function negotiateLocale({ query, cookie, acceptLanguage }: LocaleSources): Locale {
  if (isLocale(query)) return query;
  if (isLocale(cookie)) return cookie;
  return fromAcceptLanguage(acceptLanguage) ?? DEFAULT_LOCALE;
}

import { de } from './catalogue-de.ts';
import { en, type MessageKey } from './catalogue-en.ts';
import type { Locale } from './locale.ts';

export type { MessageKey };
export type MessageParams = Record<string, string | number>;

const CATALOGUES: Record<Locale, Record<MessageKey, string>> = { en, de };

/** What a key that no catalogue has renders as: visible, and searched for by the tests. */
export const UNTRANSLATED = (key: string) => `⟦${key}⟧`;

export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}

/** The sentence for `key` in `locale` with `{name}` placeholders filled; unknown names stay visible. */
export function translate(locale: Locale, key: string, params: MessageParams = {}): string {
  if (!isMessageKey(key)) return UNTRANSLATED(key);
  return CATALOGUES[locale][key].replace(/\{(\w+)\}/g, (placeholder, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : placeholder));
}

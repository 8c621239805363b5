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

/**
 * `source` with each `{name}` replaced by `value(name)` (left visible when that is undefined), and the
 * text around the placeholders passed through `text`.
 */
function fill(
  source: string,
  value: (name: string) => string | undefined,
  text: (literal: string) => string = (literal) => literal,
): string {
  let filled = '';
  let last = 0;
  for (const match of source.matchAll(/\{(\w+)\}/g)) {
    filled += text(source.slice(last, match.index)) + (value(match[1]!) ?? text(match[0]));
    last = match.index + match[0].length;
  }
  return filled + text(source.slice(last));
}

const paramOf = (params: MessageParams, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : undefined);

/** The sentence for `key` in `locale` with `{name}` placeholders filled; unknown names stay visible. */
export function translate(locale: Locale, key: string, params: MessageParams = {}): string {
  if (!isMessageKey(key)) return UNTRANSLATED(key);
  return fill(CATALOGUES[locale][key], (name) => paramOf(params, name));
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character]!);

/**
 * `translate` as HTML: the catalogue's text and every value in `params` escaped, and the placeholders
 * named in `markup` replaced by that markup as given (the caller builds it, escaping what goes in it).
 */
export function translateHtml(locale: Locale, key: string, params: MessageParams, markup: Record<string, string>): string {
  if (!isMessageKey(key)) return escapeHtml(UNTRANSLATED(key));
  return fill(
    CATALOGUES[locale][key],
    (name) => {
      if (Object.hasOwn(markup, name)) return markup[name];
      const value = paramOf(params, name);
      return value === undefined ? undefined : escapeHtml(value);
    },
    escapeHtml,
  );
}

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Context } from 'koa';
import { INTL_LOCALE, isLocale, LANGUAGE_COOKIE, LOCALES, negotiateLocale } from '../wording/locale.ts';
import { translate } from '../wording/messages.ts';
import { type Branding, wordingFor, type Wording } from '../wording/wording.ts';

const viewsDirectory = fileURLToPath(new URL('../../views', import.meta.url));
const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

/** The bank's colours as custom properties; assent.css and dashboard.css use nothing else for them. */
function brandStylesheet({ colours }: Branding) {
  return `:root { --brand: ${colours.primary}; --on-brand: ${colours.onPrimary}; --accent: ${colours.accent}; }\n`;
}

/**
 * Where the language switch leads: this page again when it can be fetched again (a GET), else the
 * start of its flow (an interaction's current step, the dashboard's home).
 */
function switchTarget(ctx: Context, locale: string) {
  const query = new URLSearchParams(ctx.method === 'GET' ? ctx.querystring : '');
  query.set('lang', locale);
  let path = ctx.path;
  if (ctx.method !== 'GET') path = /^\/interaction\/[^/]+/.exec(ctx.path)?.[0] ?? '/dashboard';
  // A path such as `//evil.example/x` (an error page for an unknown path) would be a link off the bank's site.
  if (!/^\/(?![/\\])/.test(path)) path = '/dashboard';
  return `${path}?${query}`;
}

/**
 * Server-rendered pages; Eta escapes every `<%= %>` interpolation. Every page gets the request's
 * `Wording` (`it.w`, with `it.t` for messages), the branding, the language switch and, for forms,
 * `it.csrfToken` (src/http/csrf.ts).
 */
export function createViews({ branding, dashboardUrl }: { branding: Branding; dashboardUrl: string }) {
  const eta = new Eta({ views: viewsDirectory, autoEscape: true, cache: true });
  const stylesheet = readFileSync(`${viewsDirectory}/assets/assent.css`);
  const byLocale = Object.fromEntries(LOCALES.map((locale) => [locale, wordingFor(locale, branding)])) as Record<
    (typeof LOCALES)[number],
    Wording
  >;

  /** The customer's language for this request; a choice made with the switch is remembered. */
  function wording(ctx: Pick<Context, 'query' | 'cookies' | 'get'>): Wording {
    const chosen = ctx.query.lang;
    if (isLocale(chosen))
      ctx.cookies.set(LANGUAGE_COOKIE, chosen, { httpOnly: true, secure: true, sameSite: 'lax', maxAge: ONE_YEAR_MS, overwrite: true });
    return byLocale[
      negotiateLocale({ query: chosen, cookie: ctx.cookies.get(LANGUAGE_COOKIE), acceptLanguage: ctx.get('accept-language') })
    ];
  }

  return {
    render(ctx: Context, template: string, data: Record<string, unknown>, status = 200) {
      const w = wording(ctx);
      ctx.status = status;
      ctx.type = 'text/html; charset=utf-8';
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Content-Language', INTL_LOCALE[w.locale]);
      ctx.vary('Accept-Language');
      const languages = LOCALES.map((locale) => ({
        locale,
        name: translate(locale, 'language.name'),
        href: switchTarget(ctx, locale),
        current: locale === w.locale,
      }));
      ctx.body = eta.render(template, { ...data, w, t: w.t, brand: branding, dashboardUrl, languages, csrfToken: ctx.state.csrfToken });
    },
    wording,
    stylesheet,
    brandStylesheet: brandStylesheet(branding),
  };
}

export type Views = ReturnType<typeof createViews>;

import { type Agent, fetch } from 'undici';
import { ENGINE_PATHS } from '../../src/protocol/routes.ts';
import { oneTimeCode } from './customers.ts';

interface Cookie {
  value: string;
  path: string;
}

/** What signing in needs: the two factors (the authenticator as `nextCode`). */
export interface SigningInCustomer {
  username: string;
  password: string;
  nextCode(): string;
}

export interface Page {
  url: URL;
  status: number;
  body: string;
}

/**
 * Plays the customer's browser in protocol tests: keeps cookies (by path), follows redirects inside
 * the issuer and stops at the first page or at the redirect back to the TPP.
 */
export class CustomerAgent {
  readonly #dispatcher: Agent;
  readonly #origin: string;
  readonly #cookies = new Map<string, Cookie>();

  constructor(dispatcher: Agent, issuer: string) {
    this.#dispatcher = dispatcher;
    this.#origin = new URL(issuer).origin;
  }

  async request(url: URL, init: { method?: string; form?: Record<string, string> } = {}) {
    const cookie = [...this.#cookies]
      .filter(([, c]) => url.pathname.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
    const response = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      dispatcher: this.#dispatcher,
      headers: {
        ...(cookie && { cookie }),
        ...(init.form && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(init.form && { body: new URLSearchParams(init.form).toString() }),
    });
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
      const at = pair.indexOf('=');
      const path = attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const expired = attributes.some((a) => /^expires=thu, 01 jan 1970/i.test(a)) || pair.slice(at + 1) === '';
      if (expired) this.#cookies.delete(pair.slice(0, at));
      else this.#cookies.set(pair.slice(0, at), { value: pair.slice(at + 1), path });
    }
    return response;
  }

  /** Requests `url` and follows same-origin redirects; a redirect elsewhere ends the walk unfollowed. */
  async open(url: URL, init: { form?: Record<string, string> } = {}): Promise<Page> {
    let response = await this.request(url, init);
    let current = url;
    while (response.status >= 300 && response.status < 400) {
      const next = new URL(response.headers.get('location') ?? '', current);
      if (next.origin !== this.#origin) return { url: next, status: response.status, body: '' };
      current = next;
      response = await this.request(current);
    }
    return { url: current, status: response.status, body: await response.text() };
  }

  /** The CSRF token of the page's forms. */
  static csrfToken(page: Page): string {
    const token = /name="csrf_token" value="([^"]+)"/.exec(page.body)?.[1];
    if (!token) throw new Error(`no CSRF token on ${page.url} (${page.status}): ${page.body.slice(0, 300)}`);
    return token;
  }

  /** The hidden fields of the page's form that posts to the step `action` (such as a payment's digest). */
  static hiddenFields(page: Page, action: string): Record<string, string> {
    const form = new RegExp(`<form[^>]*action="[^"]*/${action}"[^>]*>([\\s\\S]*?)</form>`).exec(page.body)?.[1] ?? '';
    return Object.fromEntries(
      [...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((match) => [match[1]!, match[2]!]),
    );
  }

  /** Where a form of `page` (the step named `action`) posts, and its fields: the page's CSRF token, the form's hidden fields and `form`. */
  static form(page: Page, action: string, form: Record<string, string> = {}): { url: URL; fields: Record<string, string> } {
    const fields = { ...CustomerAgent.hiddenFields(page, action), csrf_token: CustomerAgent.csrfToken(page), ...form };
    return { url: new URL(`/interaction/${page.url.pathname.split('/')[2]}/${action}`, page.url), fields };
  }

  /** Posts a form of `page` (the step named `action`) and follows its redirects (see `form`). */
  submit(page: Page, action: string, form: Record<string, string> = {}): Promise<Page> {
    const { url, fields } = CustomerAgent.form(page, action, form);
    return this.open(url, { form: fields });
  }

  /** Posts a form of `page` once, as the browser sends it, and returns the answer itself (a redirect is not followed). */
  async post(page: Page, action: string, form: Record<string, string> = {}) {
    const { url, fields } = CustomerAgent.form(page, action, form);
    const response = await this.request(url, { form: fields });
    return { status: response.status, location: response.headers.get('location'), body: await response.text() };
  }

  /**
   * Both SCA factors from an authorization URL: password, then the authenticator's next unused code.
   * Returns the page after sign-in (the consent page, or the redirect back to the client).
   */
  async signIn(authorizationUrl: URL, customer: SigningInCustomer): Promise<Page> {
    const login = await this.open(authorizationUrl);
    if (!login.url.pathname.startsWith('/interaction/'))
      throw new Error(`expected the login page, got ${login.url} (${login.status}): ${login.body.slice(0, 300)}`);
    const otp = await this.submit(login, 'login', { username: customer.username, password: customer.password });
    if (!otp.body.includes('name="code"'))
      throw new Error(`expected the one-time-code page, got ${otp.url} (${otp.status}): ${otp.body.slice(0, 300)}`);
    return this.submit(otp, 'otp', { code: await oneTimeCode(customer) });
  }

  /** "Yes, sign me out" at the provider's end-session page, as the browser posts it; returns the receipt page. */
  async signOut(): Promise<Page> {
    const confirm = await this.open(new URL(ENGINE_PATHS.end_session, this.#origin));
    const form = /<form id="op.logoutForm" method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"\/><\/form>/.exec(
      confirm.body,
    );
    if (!form) throw new Error(`expected the sign-out confirmation, got ${confirm.url} (${confirm.status}): ${confirm.body.slice(0, 300)}`);
    return this.open(new URL(form[1]!, this.#origin), { form: { xsrf: form[2]!, logout: 'yes' } });
  }

  /** Signs in, approves (or denies) and returns the URL the TPP receives on its redirect_uri. */
  async authorize(authorizationUrl: URL, customer: SigningInCustomer, decision: 'approve' | 'deny' = 'approve'): Promise<URL> {
    const consent = await this.signIn(authorizationUrl, customer);
    if (consent.url.origin !== this.#origin) return consent.url;
    const done = await this.submit(consent, decision === 'approve' ? 'confirm' : 'abort');
    return done.url;
  }
}

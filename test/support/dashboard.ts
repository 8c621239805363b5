import type { CustomerAgent, Page } from './customer-agent.ts';
import { oneTimeCode } from './customers.ts';

export interface DashboardCustomer {
  username: string;
  password: string;
  /** The authenticator's next code. */
  nextCode(): string;
}

export interface DashboardSignIn {
  /** The dashboard's callback response, with the session cookie it sets. */
  callback: Response;
  /** The page the callback sends the browser to. */
  home: Page;
}

function csrfField(body: string): Record<string, string> {
  const token = /name="csrf_token" value="([^"]+)"/.exec(body)?.[1];
  return token ? { csrf_token: token } : {};
}

/** The URL of an interaction step (`login`, `otp`) of the interaction a page belongs to. */
const step = (name: string, url: URL) => new URL(`/interaction/${url.pathname.split('/')[2]}/${name}`, url);

/**
 * Walks the customer through Assent's own authorization endpoint and interaction pages (password,
 * then the one-time code when asked) and returns the dashboard callback URL, not yet requested.
 */
export async function reachDashboardCallback(browser: CustomerAgent, issuer: string, customer: DashboardCustomer): Promise<URL> {
  const login = await browser.open(new URL('/dashboard/login', issuer));
  if (!login.url.pathname.startsWith('/interaction/')) throw new Error(`expected the login page, got ${login.url} (${login.status})`);
  let response = await browser.request(step('login', login.url), {
    form: { ...csrfField(login.body), username: customer.username, password: customer.password },
  });
  let current = login.url;
  let codeSent = false;
  for (;;) {
    if (response.status === 303 || response.status === 302) {
      const next = new URL(response.headers.get('location') ?? '', current);
      if (next.pathname === '/dashboard/callback') return next;
      current = next;
      response = await browser.request(current);
      continue;
    }
    const body = await response.text();
    if (body.includes('name="code"') && !codeSent) {
      codeSent = true;
      response = await browser.request(step('otp', current), { form: { ...csrfField(body), code: await oneTimeCode(customer) } });
      continue;
    }
    throw new Error(`sign-in did not reach the dashboard callback: ${current} (${response.status}) ${body.slice(0, 300)}`);
  }
}

/** Signs in to the dashboard; the callback response is kept so that tests can read the cookie it sets. */
export async function signInToDashboard(browser: CustomerAgent, issuer: string, customer: DashboardCustomer): Promise<DashboardSignIn> {
  const callbackUrl = await reachDashboardCallback(browser, issuer, customer);
  const callback = await browser.request(callbackUrl);
  const home = await browser.open(new URL(callback.headers.get('location') ?? '/dashboard', callbackUrl));
  return { callback, home };
}

/** The CSRF token of a dashboard page's forms. */
export function csrfTokenOf(page: Page): string {
  const token = csrfField(page.body).csrf_token;
  if (!token) throw new Error(`no CSRF token on ${page.url}`);
  return token;
}

/** The text of a page without its markup, so assertions read like what the customer sees. */
export function pageText(page: Page): string {
  return page.body
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/\s+/g, ' ');
}

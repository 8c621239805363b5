import type { CustomerAgent, Page } from './customer-agent.ts';

export interface DashboardCustomer {
  username: string;
  password: string;
}

export interface DashboardSignIn {
  /** The dashboard's callback response, with the session cookie it sets. */
  callback: Response;
  /** The page the callback sends the browser to. */
  home: Page;
}

function csrfField(page: Page): Record<string, string> {
  const token = /name="csrf_token" value="([^"]+)"/.exec(page.body)?.[1];
  return token ? { csrf_token: token } : {};
}

/**
 * Signs the customer in to the dashboard through Assent's own authorization endpoint and interaction
 * pages, stopping at the callback so that tests can read the cookie it sets.
 */
export async function signInToDashboard(browser: CustomerAgent, issuer: string, customer: DashboardCustomer): Promise<DashboardSignIn> {
  const login = await browser.open(new URL('/dashboard/login', issuer));
  if (!login.url.pathname.startsWith('/interaction/')) throw new Error(`expected the login page, got ${login.url} (${login.status})`);
  let response = await browser.request(new URL(`${login.url.pathname}/login`, login.url), {
    form: { ...csrfField(login), username: customer.username, password: customer.password },
  });
  let current = login.url;
  while (response.status === 303 || response.status === 302) {
    const next = new URL(response.headers.get('location') ?? '', current);
    if (next.pathname === '/dashboard/callback') {
      const callback = await browser.request(next);
      const home = await browser.open(new URL(callback.headers.get('location') ?? '/dashboard', next));
      return { callback, home };
    }
    current = next;
    response = await browser.request(current);
  }
  throw new Error(`sign-in did not reach the dashboard callback: ${current} (${response.status}) ${(await response.text()).slice(0, 300)}`);
}

/** The CSRF token of a dashboard page's forms. */
export function csrfTokenOf(page: Page): string {
  const token = csrfField(page).csrf_token;
  if (!token) throw new Error(`no CSRF token on ${page.url}`);
  return token;
}

import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { Views } from '../http/views.ts';
import { isFirstParty } from './authorization-grant.ts';
import { customerErrorMessage } from '../wording/error-wording.ts';
import { httpsLogo } from '../wording/wording.ts';

/**
 * The pages oidc-provider would otherwise draw itself (its unstyled "oops! something went wrong",
 * a logout prompt whose inline script the CSP blocks), rendered with Assent's templates, in the
 * customer's language and the bank's branding.
 */

/**
 * The TPP the page is about, and its own address (`client_uri`) when it registered an https one: the only
 * safe way back, since the provider shows an error page exactly when it cannot trust the request's
 * redirect_uri. The bank's own clients (the consent dashboard) are no TPP: their pages speak as the bank.
 */
function tppOf(ctx: KoaContextWithOIDC): { tppName?: string; returnTo?: string } {
  const client = ctx.oidc?.client;
  if (!client || isFirstParty(client)) return {};
  return { tppName: client.clientName ?? client.clientId, returnTo: httpsLogo(client.clientUri) };
}

/** `parLifetimeSeconds`: how long the link a TPP sends lives, which the expired-link page says. */
export function customerPages(views: Views, parLifetimeSeconds: number) {
  const renderError: NonNullable<Configuration['renderError']> = async (ctx, out, error) => {
    const w = views.wording(ctx);
    const code = out.error;
    const { tppName, returnTo } = tppOf(ctx);
    views.render(
      ctx,
      'error',
      {
        message: customerErrorMessage(w, { name: (error as Error).name, error: code }, { seconds: parLifetimeSeconds }),
        code,
        tppName,
        returnTo,
        startAgain: !returnTo,
      },
      ctx.status >= 400 ? ctx.status : 400,
    );
  };

  /** `form` is the library's `<form id="op.logoutForm">` with its xsrf field; the page's buttons submit it. */
  async function logoutSource(ctx: KoaContextWithOIDC, form: string) {
    views.render(ctx, 'logout', { form, tppName: tppOf(ctx).tppName }, 200);
  }

  /** Leads on: back to the TPP that asked for the sign-out, else to the dashboard's start (the view's). */
  async function postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
    views.render(ctx, 'logged-out', tppOf(ctx), 200);
  }

  return { renderError, logoutSource, postLogoutSuccessSource };
}

/**
 * Provider middleware: the engine forgets which TPP asked for a sign-out once the customer says "Yes,
 * sign me out" (it forwards `client_id` to the signed-out page only for "No"), so the signed-out page
 * could neither name the TPP nor lead back to it. The TPP it already checked goes along.
 */
export async function nameTppAfterSignOut(ctx: KoaContextWithOIDC, next: () => Promise<void>) {
  await next();
  const client = ctx.oidc?.client;
  if (ctx.oidc?.route !== 'end_session_confirm' || ctx.status !== 303 || !client) return;
  const location = new URL(ctx.response.get('location'), ctx.oidc.issuer);
  const success = new URL(ctx.oidc.urlFor('end_session_success'));
  if (location.origin !== success.origin || location.pathname !== success.pathname || location.searchParams.has('client_id')) return;
  location.searchParams.set('client_id', client.clientId);
  ctx.redirect(location.href);
}

export type CustomerPages = ReturnType<typeof customerPages>;

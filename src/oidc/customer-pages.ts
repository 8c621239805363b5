import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { Views } from '../http/views.ts';
import { customerErrorMessage } from '../wording/error-wording.ts';
import { httpsLogo } from '../wording/wording.ts';

/**
 * The pages oidc-provider would otherwise draw itself (its unstyled "oops! something went wrong",
 * a logout prompt whose inline script the CSP blocks), rendered with Assent's templates, in the
 * customer's language and the bank's branding.
 */

/** The TPP's own address (`client_uri`) when it registered an https one: the only safe way back, since
 * the provider shows an error page exactly when it cannot trust the request's redirect_uri. */
function wayBack(ctx: KoaContextWithOIDC) {
  const client = ctx.oidc?.client;
  if (!client) return {};
  const home = httpsLogo(client.clientUri);
  return { tppName: client.clientName ?? client.clientId, returnTo: home };
}

/** `parLifetimeSeconds`: how long the link a TPP sends lives, which the expired-link page says. */
export function customerPages(views: Views, parLifetimeSeconds: number) {
  const renderError: NonNullable<Configuration['renderError']> = async (ctx, out, error) => {
    const w = views.wording(ctx);
    const code = out.error;
    const { tppName, returnTo } = wayBack(ctx);
    views.render(
      ctx,
      'error',
      { message: customerErrorMessage(w, { name: (error as Error).name, error: code }, { seconds: parLifetimeSeconds }), code, tppName, returnTo, startAgain: !returnTo },
      ctx.status >= 400 ? ctx.status : 400,
    );
  };

  /** `form` is the library's `<form id="op.logoutForm">` with its xsrf field; the page's buttons submit it. */
  async function logoutSource(ctx: KoaContextWithOIDC, form: string) {
    views.render(ctx, 'logout', { form, tppName: ctx.oidc.client?.clientName }, 200);
  }

  async function postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
    views.render(ctx, 'logged-out', { tppName: ctx.oidc.client?.clientName }, 200);
  }

  return { renderError, logoutSource, postLogoutSuccessSource };
}

export type CustomerPages = ReturnType<typeof customerPages>;

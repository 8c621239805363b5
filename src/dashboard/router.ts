import { readFileSync } from 'node:fs';
import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import { z } from 'zod';
import type { Customer } from '../customers/customer-service.ts';
import type { Db } from '../db/connect.ts';
import { type Csrf, csrfProtection } from '../http/csrf.ts';
import type { Views } from '../http/views.ts';
import type { MessageKey } from '../wording/messages.ts';
import type { CustomerConsent } from './consent-directory.ts';
import { DASHBOARD_PREFIX, DECOUPLED_PATHS } from '../protocol/routes.ts';
import { consentsWithTpp, detailView, homeView, isConsentTab, type ViewDeps } from './consent-view.ts';
import { clearCookie, requireSession, SESSION_COOKIE, setCookie, SIGN_IN_COOKIE, type SignedInContext } from './dashboard-session.ts';
import { type OpenIdSignIn, SignInFailed } from './openid-sign-in.ts';
import { endProviderSession } from './sign-out-everywhere.ts';
import { closeSession, openSession, rememberPendingSignIn, type SessionPolicy, takePendingSignIn } from './session-service.ts';

export interface DashboardDeps extends ViewDeps {
  db: Db;
  views: Views;
  signIn: OpenIdSignIn;
  sessions: SessionPolicy;
  issuer: string;
  csrf: Csrf;
  provider: Provider;
  customerOf(customerId: string): Promise<Customer | undefined>;
  /** How many decoupled (CIBA) requests wait for the customer: passed in, since ciba/ sits above the dashboard. */
  decoupledWaiting(customerId: string): Promise<number>;
}

const stylesheet = readFileSync(new URL('../../views/dashboard/dashboard.css', import.meta.url));

const consentParams = z.object({ id: z.uuid() });
const tppParams = z.object({ clientId: z.string().min(1).max(200) });

/**
 * The customer's consent dashboard: sign-in through Assent itself, then the consents, their detail,
 * revocation and "stop sharing". Every page needs a session; every form carries the CSRF token; any
 * consent or TPP that is not the signed-in customer's answers 404.
 */
export function dashboardRouter(deps: DashboardDeps) {
  const { db, views, consents } = deps;
  const router = new Router({ prefix: DASHBOARD_PREFIX });

  function signedOut(ctx: Context, message?: MessageKey, status = 401) {
    views.render(ctx, 'dashboard/signed-out', { message: message && views.wording(ctx).t(message) }, status);
  }

  async function render(ctx: SignedInContext, template: string, data: Record<string, unknown>, status = 200) {
    const customer = await deps.customerOf(ctx.state.dashboard.session.customerId);
    views.render(ctx, template, { ...data, customerName: customer?.displayName }, status);
  }

  /** The signed-in customer and the words of this request, for the view builders. */
  const viewer = (ctx: SignedInContext) => ({ w: views.wording(ctx), customerId: ctx.state.dashboard.session.customerId });
  const detailOf = (ctx: SignedInContext, consent: CustomerConsent) => {
    const { w, customerId } = viewer(ctx);
    return detailView(deps, w, customerId, consent);
  };

  function notFound(ctx: SignedInContext) {
    return render(ctx, 'dashboard/not-found', {}, 404);
  }

  /** The consent named in the URL if it is the signed-in customer's. */
  async function ownConsent(ctx: SignedInContext) {
    const params = consentParams.safeParse(ctx.params);
    if (!params.success) return undefined;
    return consents.findForCustomer(ctx.state.dashboard.session.customerId, params.data.id);
  }

  /** The TPP behind the client named in the URL with the customer's consents with it (through any of its clients); undefined when there are none. */
  async function ownTpp(ctx: SignedInContext) {
    const params = tppParams.safeParse(ctx.params);
    if (!params.success) return undefined;
    return consentsWithTpp(deps, ctx.state.dashboard.session.customerId, params.data.clientId);
  }

  router.get('/assets/dashboard.css', (ctx) => {
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = stylesheet;
  });

  router.get('/login', async (ctx) => {
    const { url, pending } = await deps.signIn.begin();
    setCookie(ctx, SIGN_IN_COOKIE, await rememberPendingSignIn(db, pending));
    ctx.status = 303;
    ctx.redirect(url.href);
  });

  router.get('/callback', async (ctx) => {
    const pendingId = ctx.cookies.get(SIGN_IN_COOKIE);
    clearCookie(ctx, SIGN_IN_COOKIE);
    const pending = pendingId ? await takePendingSignIn(db, pendingId) : undefined;
    if (!pending) {
      signedOut(ctx, 'dash.signedOut.expired', 400);
      return;
    }
    const signedIn = await deps.signIn.complete(new URL(ctx.originalUrl, deps.issuer), pending).catch((error: unknown) => {
      if (error instanceof SignInFailed) return error;
      throw error;
    });
    if (signedIn instanceof SignInFailed) {
      signedOut(ctx, signedIn.messageKey, signedIn.status);
      return;
    }
    setCookie(ctx, SESSION_COOKIE, await openSession(db, deps.sessions, signedIn));
    ctx.status = 303;
    ctx.redirect('/dashboard');
  });

  // Every signed-in route: the session first, then the CSRF token bound to it (a POST without it is
  // refused with 403 before the handler runs; a page gets the token for its forms).
  const session = requireSession(db, deps.sessions, (ctx) => signedOut(ctx));
  const csrf = csrfProtection(deps.csrf, (ctx) => `dashboard:${(ctx as SignedInContext).state.dashboard.sessionId}`);
  const signedInOnly = [session, csrf] as const;

  router.post('/logout', ...signedInOnly, async (ctx) => {
    const signed = ctx as SignedInContext;
    await closeSession(db, signed.state.dashboard.sessionId);
    clearCookie(ctx, SESSION_COOKIE);
    await endProviderSession(deps.provider, ctx);
    signedOut(ctx, 'dash.signedOut.done', 200);
  });

  router.get('/', ...signedInOnly, async (ctx) => {
    const signed = ctx as SignedInContext;
    const tab = isConsentTab(ctx.query.tab) ? ctx.query.tab : 'active';
    const { w, customerId } = viewer(signed);
    await render(signed, 'dashboard/home', {
      home: await homeView(deps, w, customerId, tab, await deps.decoupledWaiting(customerId)),
      decoupledPage: DECOUPLED_PATHS.page,
    });
  });

  router.get('/consents/:id', ...signedInOnly, async (ctx) => {
    const signed = ctx as SignedInContext;
    const consent = await ownConsent(signed);
    if (!consent) return notFound(signed);
    await render(signed, 'dashboard/consent', { detail: await detailOf(signed, consent) });
  });

  router.get('/consents/:id/revoke', ...signedInOnly, async (ctx) => {
    const signed = ctx as SignedInContext;
    const consent = await ownConsent(signed);
    if (!consent) return notFound(signed);
    await render(signed, 'dashboard/revoke', { detail: await detailOf(signed, consent) });
  });

  router.post('/consents/:id/revoke', ...signedInOnly, async (ctx) => {
    const signed = ctx as SignedInContext;
    const consent = await ownConsent(signed);
    if (!consent) return notFound(signed);
    if (consent.status !== 'Authorised') {
      await render(signed, 'dashboard/consent', { detail: await detailOf(signed, consent) }, 409);
      return;
    }
    await consents.revoke(signed.state.dashboard.session.customerId, consent.id);
    ctx.status = 303;
    ctx.redirect(`/dashboard/consents/${consent.id}/receipt`);
  });

  router.get('/consents/:id/receipt', ...signedInOnly, async (ctx) => {
    const signed = ctx as SignedInContext;
    const consent = await ownConsent(signed);
    if (!consent) return notFound(signed);
    // A receipt only for what has ended: an active consent's "receipt" would tell the customer a falsehood.
    if (consent.status === 'Authorised') {
      ctx.status = 303;
      ctx.redirect(`/dashboard/consents/${consent.id}`);
      return;
    }
    await render(signed, 'dashboard/receipt', { detail: await detailOf(signed, consent) });
  });

  router.get('/providers/:clientId/stop', ...signedInOnly, async (ctx) => {
    const signed = ctx as SignedInContext;
    const found = await ownTpp(signed);
    if (!found) return notFound(signed);
    const active = found.consents.filter((consent) => consent.status === 'Authorised');
    const details = await Promise.all(active.map((consent) => detailOf(signed, consent)));
    await render(signed, 'dashboard/stop-sharing', { tpp: found.tpp, details });
  });

  router.post('/providers/:clientId/stop', ...signedInOnly, async (ctx) => {
    const signed = ctx as SignedInContext;
    const found = await ownTpp(signed);
    if (!found) return notFound(signed);
    await consents.revokeAllWithTpp(signed.state.dashboard.session.customerId, found.tpp.clientIds);
    ctx.status = 303;
    ctx.redirect(`/dashboard/providers/${encodeURIComponent(found.tpp.clientId)}/receipt`);
  });

  router.get('/providers/:clientId/receipt', ...signedInOnly, async (ctx) => {
    const signed = ctx as SignedInContext;
    const found = await ownTpp(signed);
    if (!found) return notFound(signed);
    if (found.consents.some((consent) => consent.status === 'Authorised')) {
      ctx.status = 303;
      ctx.redirect(`/dashboard/providers/${encodeURIComponent(found.tpp.clientId)}/stop`);
      return;
    }
    const details = await Promise.all(found.consents.map((consent) => detailOf(signed, consent)));
    await render(signed, 'dashboard/stop-receipt', { tpp: found.tpp, details });
  });

  return router;
}

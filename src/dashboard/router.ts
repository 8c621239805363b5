import { readFileSync } from 'node:fs';
import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import { z } from 'zod';
import type { Customer } from '../customers/customer-service.ts';
import type { Db } from '../db/connect.ts';
import type { Csrf } from '../http/csrf.ts';
import { declaredRoutes } from '../http/declared-routes.ts';
import type { CustomerState } from '../http/route-guard.ts';
import type { Views } from '../http/views.ts';
import type { MessageKey } from '../wording/messages.ts';
import type { CustomerConsent } from './consent-directory.ts';
import { DASHBOARD_PREFIX, DECOUPLED_PATHS } from '../protocol/routes.ts';
import { consentsWithTpp, detailView, homeView, isConsentTab, type ViewDeps } from './consent-view.ts';
import { clearCookie, resumeSignedInCustomer, SESSION_COOKIE, setCookie, SIGN_IN_COOKIE } from './dashboard-session.ts';
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

/** A dashboard request past the route guard: the signed-in customer on its state. */
type SignedInContext = Context & { state: CustomerState };

/**
 * The customer's consent dashboard: sign-in through Assent itself, then the consents, their detail,
 * revocation and "stop sharing". Every page but the sign-in needs a session and every form carries the
 * CSRF token bound to it (the route guard checks both, from the rows' `dashboard_session`); any consent
 * or TPP that is not the signed-in customer's answers 404.
 */
export function dashboardRouter(deps: DashboardDeps) {
  const { db, views, consents } = deps;
  const router = new Router();

  function signedOut(ctx: Context, message?: MessageKey, status = 401) {
    views.render(ctx, 'dashboard/signed-out', { message: message && views.wording(ctx).t(message) }, status);
  }

  async function render(ctx: SignedInContext, template: string, data: Record<string, unknown>, status = 200) {
    const customer = await deps.customerOf(ctx.state.customer.customerId);
    views.render(ctx, template, { ...data, customerName: customer?.displayName }, status);
  }

  /** The signed-in customer and the words of this request, for the view builders. */
  const viewer = (ctx: SignedInContext) => ({ w: views.wording(ctx), customerId: ctx.state.customer.customerId });
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
    return consents.findForCustomer(ctx.state.customer.customerId, params.data.id);
  }

  /** The TPP behind the client named in the URL with the customer's consents with it (through any of its clients); undefined when there are none. */
  async function ownTpp(ctx: SignedInContext) {
    const params = tppParams.safeParse(ctx.params);
    if (!params.success) return undefined;
    return consentsWithTpp(deps, ctx.state.customer.customerId, params.data.clientId);
  }

  const routes = declaredRoutes(router, {
    dashboardSession: {
      resumeSession: (ctx) => resumeSignedInCustomer(db, deps.sessions, ctx),
      signedOut: (ctx) => signedOut(ctx),
      csrf: deps.csrf,
    },
  });

  routes.open(`GET ${DASHBOARD_PREFIX}/assets/dashboard.css`, (ctx) => {
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = stylesheet;
  });

  routes.open(`GET ${DASHBOARD_PREFIX}/login`, async (ctx) => {
    const { url, pending } = await deps.signIn.begin();
    setCookie(ctx, SIGN_IN_COOKIE, await rememberPendingSignIn(db, pending));
    ctx.status = 303;
    ctx.redirect(url.href);
  });

  routes.open(`GET ${DASHBOARD_PREFIX}/callback`, async (ctx) => {
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

  routes.customer(`POST ${DASHBOARD_PREFIX}/logout`, async (ctx) => {
    await closeSession(db, ctx.state.customer.sessionId);
    clearCookie(ctx, SESSION_COOKIE);
    await endProviderSession(deps.provider, ctx);
    signedOut(ctx, 'dash.signedOut.done', 200);
  });

  routes.customer(`GET ${DASHBOARD_PREFIX}`, async (ctx) => {
    const tab = isConsentTab(ctx.query.tab) ? ctx.query.tab : 'active';
    const { w, customerId } = viewer(ctx);
    await render(ctx, 'dashboard/home', {
      home: await homeView(deps, w, customerId, tab, await deps.decoupledWaiting(customerId)),
      decoupledPage: DECOUPLED_PATHS.page,
    });
  });

  routes.customer(`GET ${DASHBOARD_PREFIX}/consents/:id`, async (ctx) => {
    const consent = await ownConsent(ctx);
    if (!consent) return notFound(ctx);
    await render(ctx, 'dashboard/consent', { detail: await detailOf(ctx, consent) });
  });

  routes.customer(`GET ${DASHBOARD_PREFIX}/consents/:id/revoke`, async (ctx) => {
    const consent = await ownConsent(ctx);
    if (!consent) return notFound(ctx);
    await render(ctx, 'dashboard/revoke', { detail: await detailOf(ctx, consent) });
  });

  routes.customer(`POST ${DASHBOARD_PREFIX}/consents/:id/revoke`, async (ctx) => {
    const consent = await ownConsent(ctx);
    if (!consent) return notFound(ctx);
    if (consent.status !== 'Authorised') {
      await render(ctx, 'dashboard/consent', { detail: await detailOf(ctx, consent) }, 409);
      return;
    }
    await consents.revoke(ctx.state.customer.customerId, consent.id);
    ctx.status = 303;
    ctx.redirect(`/dashboard/consents/${consent.id}/receipt`);
  });

  routes.customer(`GET ${DASHBOARD_PREFIX}/consents/:id/receipt`, async (ctx) => {
    const consent = await ownConsent(ctx);
    if (!consent) return notFound(ctx);
    // A receipt only for what has ended: an active consent's "receipt" would tell the customer a falsehood.
    if (consent.status === 'Authorised') {
      ctx.status = 303;
      ctx.redirect(`/dashboard/consents/${consent.id}`);
      return;
    }
    await render(ctx, 'dashboard/receipt', { detail: await detailOf(ctx, consent) });
  });

  routes.customer(`GET ${DASHBOARD_PREFIX}/providers/:clientId/stop`, async (ctx) => {
    const found = await ownTpp(ctx);
    if (!found) return notFound(ctx);
    const active = found.consents.filter((consent) => consent.status === 'Authorised');
    const details = await Promise.all(active.map((consent) => detailOf(ctx, consent)));
    await render(ctx, 'dashboard/stop-sharing', { tpp: found.tpp, details });
  });

  routes.customer(`POST ${DASHBOARD_PREFIX}/providers/:clientId/stop`, async (ctx) => {
    const found = await ownTpp(ctx);
    if (!found) return notFound(ctx);
    await consents.revokeAllWithTpp(ctx.state.customer.customerId, found.tpp.clientIds);
    ctx.status = 303;
    ctx.redirect(`/dashboard/providers/${encodeURIComponent(found.tpp.clientId)}/receipt`);
  });

  routes.customer(`GET ${DASHBOARD_PREFIX}/providers/:clientId/receipt`, async (ctx) => {
    const found = await ownTpp(ctx);
    if (!found) return notFound(ctx);
    if (found.consents.some((consent) => consent.status === 'Authorised')) {
      ctx.status = 303;
      ctx.redirect(`/dashboard/providers/${encodeURIComponent(found.tpp.clientId)}/stop`);
      return;
    }
    const details = await Promise.all(found.consents.map((consent) => detailOf(ctx, consent)));
    await render(ctx, 'dashboard/stop-receipt', { tpp: found.tpp, details });
  });

  return router;
}

import { Router } from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Customer } from '../customers/customer-service.ts';
import { resumeSignedInCustomer } from '../dashboard/dashboard-session.ts';
import type { SessionPolicy } from '../dashboard/session-service.ts';
import type { Csrf } from '../http/csrf.ts';
import { declaredRoutes } from '../http/declared-routes.ts';
import type { CustomerState } from '../http/route-guard.ts';
import { CustomerApiRefusal } from '../http/error-page.ts';
import { readForm } from '../http/form-body.ts';
import { JsonBodyRefused, readJsonBody } from '../http/json-body.ts';
import type { Views } from '../http/views.ts';
import { selectedAccounts } from '../interactions/consent-step.ts';
import { lockoutNotice } from '../interactions/login-step.ts';
import { DECOUPLED_PATHS } from '../protocol/routes.ts';
import type { MessageKey } from '../wording/messages.ts';
import type { Wording } from '../wording/wording.ts';
import {
  type Approval,
  approveDecoupledRequest,
  type DecisionDeps,
  type DecisionOutcome,
  denyDecoupledRequest,
} from './decoupled-decisions.ts';
import { pendingRequestViews, requestJson } from './decoupled-view.ts';

/**
 * The customer's authentication device for decoupled (CIBA) requests, in two forms over one service:
 * the signed-in dashboard page (forms with the CSRF token), and its JSON twin for the bank's own app
 * (docs/ciba.md). Both take the dashboard's session (their rows' `dashboard_session`, checked by the
 * route guard); the JSON endpoint's POSTs must be application/json, which no other site can send with
 * the customer's cookie (the cookie is SameSite=Strict, and a cross-site JSON request needs a CORS
 * preflight this server never grants), so it takes no CSRF token and answers a signed-out caller in JSON.
 */

export interface DeviceRouterDeps extends DecisionDeps {
  views: Views;
  csrf: Csrf;
  sessions: SessionPolicy;
  customerOf(customerId: string): Promise<Customer | undefined>;
}

const requestParams = z.object({ id: z.uuid() });

/** HTTP status and message of each refusal; `decided` and `not_found` mean nothing changed. */
const REFUSALS: Record<
  Exclude<DecisionOutcome['outcome'], 'approved' | 'denied' | 'locked'>,
  { status: number; error: string; message: MessageKey }
> = {
  not_found: { status: 404, error: 'not_found', message: 'dash.notFound.body' },
  decided: { status: 409, error: 'already_decided', message: 'decoupled.error.decided' },
  code_format: { status: 400, error: 'invalid_code', message: 'otp.error.format' },
  code_rejected: { status: 403, error: 'invalid_code', message: 'otp.error.rejected' },
  code_reused: { status: 403, error: 'code_reused', message: 'otp.error.reused' },
  payment_changed: { status: 409, error: 'payment_changed', message: 'otp.error.paymentChanged' },
  accounts_invalid: { status: 400, error: 'invalid_accounts', message: 'decoupled.error.accounts' },
  consent_unavailable: { status: 409, error: 'consent_unavailable', message: 'decoupled.error.unavailable' },
};

function refusalOf(w: Wording, decided: DecisionOutcome): { status: number; error: string; message: string } {
  if (decided.outcome === 'locked') return { status: 429, error: 'locked', message: lockoutNotice(w, decided.until) };
  if (decided.outcome === 'approved' || decided.outcome === 'denied') throw new Error('not a refusal');
  const refusal = REFUSALS[decided.outcome];
  return { ...refusal, message: w.t(refusal.message) };
}

/** The approval the bank's app posts (its OpenAPI schema is read from here). */
export const approvalBody = z.object({
  code: z.string().max(20),
  account_ids: z.array(z.string().max(200)).max(50),
  payment_digest: z.string().max(200).optional(),
});

/** A request past the route guard: the signed-in customer on its state. */
type SignedInContext = Context & { state: CustomerState };
const customerIdOf = (ctx: SignedInContext) => ctx.state.customer.customerId;

export function deviceRouter(deps: DeviceRouterDeps) {
  const { views } = deps;
  const router = new Router();
  const routes = declaredRoutes(router, {
    dashboardSession: {
      resumeSession: (ctx) => resumeSignedInCustomer(deps.db, deps.sessions, ctx),
      signedOut: (ctx) => views.render(ctx, 'dashboard/signed-out', {}, 401),
      csrf: deps.csrf,
    },
  });

  // ---- the dashboard page ----

  /** `errors` and `selected` are per request id: a refused approval shows why, with the accounts still picked. */
  async function renderPage(
    ctx: SignedInContext,
    extra: { outcome?: string; errors?: Record<string, string>; selected?: Record<string, readonly string[]> } = {},
    status = 200,
  ) {
    const customerId = customerIdOf(ctx);
    const w = views.wording(ctx);
    const customer = await deps.customerOf(customerId);
    const requests = await pendingRequestViews(deps, w, customerId);
    views.render(
      ctx,
      'dashboard/decoupled',
      { requests, outcome: extra.outcome, errors: extra.errors ?? {}, selected: extra.selected ?? {}, customerName: customer?.displayName },
      status,
    );
  }

  async function answerPage(ctx: SignedInContext, id: string, decided: DecisionOutcome, selected: readonly string[] = []) {
    if (decided.outcome === 'approved' || decided.outcome === 'denied') {
      ctx.status = 303;
      ctx.redirect(`${DECOUPLED_PATHS.page}?outcome=${decided.outcome}`);
      return;
    }
    const w = views.wording(ctx);
    const refusal = refusalOf(w, decided);
    if (decided.outcome === 'not_found') return views.render(ctx, 'dashboard/not-found', {}, 404);
    await renderPage(ctx, { errors: { [id]: refusal.message }, selected: { [id]: selected } }, refusal.status);
  }

  routes.customer(`GET ${DECOUPLED_PATHS.page}`, async (ctx) => {
    const outcome =
      ctx.query.outcome === 'approved' || ctx.query.outcome === 'denied'
        ? views.wording(ctx).t(`decoupled.${ctx.query.outcome}`)
        : undefined;
    await renderPage(ctx, { outcome });
  });

  routes.customer(`POST ${DECOUPLED_PATHS.page}/:id/approve`, async (ctx) => {
    const params = requestParams.safeParse(ctx.params);
    if (!params.success) return views.render(ctx, 'dashboard/not-found', {}, 404);
    const form = await readForm(ctx);
    const approval: Approval = {
      code: (form.code ?? '').replace(/\s+/g, ''),
      accountIds: selectedAccounts(form),
      paymentDigest: form.payment_digest,
    };
    await answerPage(
      ctx,
      params.data.id,
      await approveDecoupledRequest(deps, customerIdOf(ctx), params.data.id, approval),
      approval.accountIds,
    );
  });

  routes.customer(`POST ${DECOUPLED_PATHS.page}/:id/deny`, async (ctx) => {
    const params = requestParams.safeParse(ctx.params);
    if (!params.success) return views.render(ctx, 'dashboard/not-found', {}, 404);
    await answerPage(ctx, params.data.id, await denyDecoupledRequest(deps, customerIdOf(ctx), params.data.id));
  });

  // ---- the JSON endpoint for the bank's app ----

  async function answerApi(ctx: Context, action: () => Promise<DecisionOutcome>) {
    ctx.set('Cache-Control', 'no-store');
    // Refusals, a refused body's among them, are thrown to the error page, which answers this JSON route in JSON.
    const params = requestParams.safeParse(ctx.params);
    const decided = params.success ? await action() : { outcome: 'not_found' as const };
    if (decided.outcome === 'approved' || decided.outcome === 'denied') {
      ctx.body = { status: decided.outcome };
      return;
    }
    const refusal = refusalOf(views.wording(ctx), decided);
    const retryAfter = decided.outcome === 'locked' ? Math.max(1, Math.ceil((decided.until.getTime() - Date.now()) / 1000)) : undefined;
    throw new CustomerApiRefusal(refusal.status, refusal.error, refusal.message, retryAfter);
  }

  routes.customer('listDecoupledRequests', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const pending = await pendingRequestViews(deps, views.wording(ctx), customerIdOf(ctx));
    ctx.body = { requests: pending.map(requestJson) };
  });

  routes.customer('approveDecoupledRequest', (ctx) =>
    answerApi(ctx, async () => {
      const body = approvalBody.safeParse(await readJsonBody(ctx, 'object'));
      if (!body.success)
        throw new JsonBodyRefused(
          'invalid',
          `expected {"code": "<6 digits>", "account_ids": ["<id>"], "payment_digest"?: "<from the list>"}: ${body.error.issues[0]?.message ?? ''}`,
        );
      const { code, account_ids: accountIds, payment_digest: paymentDigest } = body.data;
      return approveDecoupledRequest(deps, customerIdOf(ctx), String(ctx.params.id), { code, accountIds, paymentDigest });
    }),
  );

  routes.customer('denyDecoupledRequest', (ctx) =>
    answerApi(ctx, async () => {
      await readJsonBody(ctx, 'object');
      return denyDecoupledRequest(deps, customerIdOf(ctx), String(ctx.params.id));
    }),
  );

  return router;
}

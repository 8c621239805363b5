import type { Context } from 'koa';
import { z } from 'zod';
import type { CustomerAuthentication } from '../customers/authentication.ts';
import type { Db } from '../db/connect.ts';
import { readForm } from '../http/form-body.ts';
import type { Views } from '../http/views.ts';
import { draftConsentOfInteraction } from '../uk-ob-v3/consent-binding.ts';
import type { MessageKey } from '../wording/messages.ts';
import type { Wording } from '../wording/wording.ts';
import { type Journey, journeyOf, signInRead } from './journey.ts';
import { recordPasswordFactor } from './sca-progress-repository.ts';

/** First factor (knowledge): username and password. Success leads to the one-time-code step. */

export interface LoginStepDeps {
  db: Db;
  views: Views;
  authentication: CustomerAuthentication;
}

const loginForm = z.object({
  // The messages are catalogue keys (src/wording/), translated when the page is rendered.
  username: z
    .string()
    .trim()
    .min(1, 'login.error.usernameMissing' satisfies MessageKey)
    .max(200, 'login.error.usernameTooLong' satisfies MessageKey),
  password: z
    .string()
    .min(1, 'login.error.passwordMissing' satisfies MessageKey)
    .max(1024, 'login.error.passwordTooLong' satisfies MessageKey),
});

type FieldErrors = Partial<Record<keyof z.infer<typeof loginForm>, string>>;

interface LoginPage {
  username?: string;
  errors?: FieldErrors;
  notice?: string;
}

export async function renderLogin(deps: { views: Views }, ctx: Context, { interaction, tpp }: Journey, page: LoginPage = {}, status = 200) {
  deps.views.render(
    ctx,
    'login',
    { uid: interaction.uid, tpp: await tpp(), username: page.username ?? '', errors: page.errors ?? {}, notice: page.notice },
    status,
  );
}

/** What a locked-out customer is told; the same for every username, known or not. */
export function lockoutNotice(w: Wording, until: Date, now = new Date()): string {
  const minutes = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000));
  return w.plural('login.notice.locked', minutes, { time: w.time(until), minutes });
}

/**
 * POST password. A right one records the first factor and, for authorization_details that describe a
 * new consent, creates that consent (the first form post of the authorization: GETs never write), so
 * the code page can show the payment it approves.
 */
export function submitLogin(deps: LoginStepDeps) {
  return async function submitLoginStep(ctx: Context) {
    await checkPassword(deps, ctx, journeyOf(ctx));
  };
}

async function checkPassword(deps: LoginStepDeps, ctx: Context, loaded: Journey) {
  const form = await readForm(ctx);
  const parsed = loginForm.safeParse({ username: form.username ?? '', password: form.password ?? '' });
  if (!parsed.success) {
    const errors: FieldErrors = {};
    for (const issue of parsed.error.issues)
      errors[issue.path[0] as keyof FieldErrors] ??= deps.views.wording(ctx).t(issue.message as MessageKey);
    await renderLogin(deps, ctx, loaded, { username: form.username, errors }, 400);
    return;
  }
  const { username, password } = parsed.data;
  const check = await deps.authentication.checkPassword(username, password, signInRead(loaded, username));
  switch (check.outcome) {
    case 'verified':
      await recordPasswordFactor(deps.db, loaded.interaction.uid, check.customer.id);
      // The journey read the bound consent already; only a consent still to be drafted needs the database.
      if (!loaded.consent) await draftConsentOfInteraction(deps.db, loaded.interaction);
      ctx.status = 303;
      ctx.redirect(`/interaction/${loaded.interaction.uid}`);
      return;
    case 'rejected':
      await renderLogin(deps, ctx, loaded, { username, errors: { password: deps.views.wording(ctx).t('login.error.wrong') } }, 401);
      return;
    case 'not_enrolled':
      await renderLogin(deps, ctx, loaded, { username, notice: deps.views.wording(ctx).t('login.notice.notEnrolled') }, 403);
      return;
    case 'locked':
      await renderLogin(deps, ctx, loaded, { username, notice: lockoutNotice(deps.views.wording(ctx), check.until) }, 429);
      return;
    case 'busy':
      ctx.set('Retry-After', '5');
      await renderLogin(deps, ctx, loaded, { username, notice: deps.views.wording(ctx).t('login.notice.busy') }, 503);
      return;
  }
}

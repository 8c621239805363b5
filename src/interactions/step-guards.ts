import type { Context, Next } from 'koa';
import type { Views } from '../http/views.ts';
import { journeyOf, passwordVerifiedFor } from './journey.ts';

/** Steps that refuse a form posted out of order (an old tab, a back button): nothing runs, nothing changes. */

export function requireLoginPrompt(deps: { views: Views }) {
  return async function requireLoginPromptStep(ctx: Context, next: Next) {
    if (journeyOf(ctx).interaction.prompt.name !== 'login')
      return deps.views.render(ctx, 'error', { message: deps.views.wording(ctx).t('error.alreadySignedIn') }, 400);
    await next();
  };
}

/** The one-time code comes only after this interaction's password step. */
export function requirePasswordFactor(deps: { views: Views }) {
  return async function requirePasswordFactorStep(ctx: Context, next: Next) {
    if (!passwordVerifiedFor(journeyOf(ctx)))
      return deps.views.render(ctx, 'error', { message: deps.views.wording(ctx).t('error.unexpectedStep') }, 400);
    await next();
  };
}

export function requireConsentPrompt(deps: { views: Views }) {
  return async function requireConsentPromptStep(ctx: Context, next: Next) {
    const { interaction } = journeyOf(ctx);
    if (interaction.prompt.name !== 'consent' || !interaction.session)
      return deps.views.render(ctx, 'error', { message: deps.views.wording(ctx).t('error.unexpectedStep') }, 400);
    await next();
  };
}

import type { Context, Next } from 'koa';
import type { Views } from '../http/views.ts';
import { finishInteraction } from './interaction-context.ts';
import { journeyOf } from './journey.ts';

/** PSD2 RTS Art. 4: after 5 minutes without activity the customer can only go back to the TPP. */

/** Shows the timeout page instead of the step once the interaction has been idle too long. */
export function endWhenIdle(deps: { views: Views; idleTimeoutSeconds: number }) {
  return async function endWhenIdleStep(ctx: Context, next: Next) {
    const { interaction, tpp, progress } = journeyOf(ctx);
    if (progress.state === 'timed_out')
      return deps.views.render(
        ctx,
        'timeout',
        { uid: interaction.uid, tpp: await tpp(), idleMinutes: Math.max(1, Math.ceil(deps.idleTimeoutSeconds / 60)) },
        401,
      );
    await next();
  };
}

/** The timeout page's way back (and any abort after the timeout): the TPP hears access_denied. */
export function returnWhenIdle() {
  return async function returnWhenIdleStep(ctx: Context, next: Next) {
    const { interaction, progress } = journeyOf(ctx);
    if (progress.state !== 'timed_out') return next();
    await finishInteraction(
      ctx,
      interaction,
      { error: 'access_denied', error_description: 'the customer was inactive for too long' },
      false,
    );
  };
}

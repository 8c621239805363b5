import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Views } from '../http/views.ts';
import { finishInteraction, type LoadedInteraction } from './interaction-context.ts';

/** The page after 5 minutes without activity: the customer is told so and can only go back to the TPP. */
export function renderTimedOut(deps: { views: Views }, ctx: Context, { interaction, clientName }: LoadedInteraction) {
  deps.views.render(ctx, 'timeout', { uid: interaction.uid, clientName }, 401);
}

export async function returnAfterTimeout(deps: { provider: Provider }, ctx: Context) {
  await finishInteraction(deps.provider, ctx, { error: 'access_denied', error_description: 'the customer was inactive for too long' }, false);
}

import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Views } from '../http/views.ts';
import { finishInteraction, type LoadedInteraction } from './interaction-context.ts';

/** The page after the idle limit (at most 5 minutes) without activity: the customer is told so and can only go back to the TPP. */
export function renderTimedOut(deps: { views: Views; idleTimeoutSeconds: number }, ctx: Context, { interaction, clientName }: LoadedInteraction) {
  deps.views.render(ctx, 'timeout', { uid: interaction.uid, clientName, idleMinutes: Math.max(1, Math.ceil(deps.idleTimeoutSeconds / 60)) }, 401);
}

export async function returnAfterTimeout(deps: { provider: Provider }, ctx: Context) {
  await finishInteraction(deps.provider, ctx, { error: 'access_denied', error_description: 'the customer was inactive for too long' }, false);
}

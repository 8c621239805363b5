import type { Context } from 'koa';
import { errors, type InteractionResults, type Provider } from 'oidc-provider';
import { asOneRequest } from '../store/request-prefetch.ts';

/** Loads the interaction named in the URL; oidc-provider checks it against the browser's interaction cookie. */
export async function loadInteraction(provider: Provider, ctx: Context & { params: { uid?: string } }) {
  // Its session comes in the same statement as the interaction (store/request-prefetch.ts).
  const interaction = await asOneRequest(() => provider.interactionDetails(ctx.req, ctx.res));
  if (interaction.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction does not match this browser session');
  return interaction;
}

export type Interaction = Awaited<ReturnType<typeof loadInteraction>>;

/**
 * Stores the outcome on the interaction this request already loaded and returns where the browser goes
 * next: what `provider.interactionResult` does, without loading the interaction (and its session) again.
 */
export async function storeResult(interaction: Interaction, result: InteractionResults, merge: boolean): Promise<string> {
  interaction.result = merge && !('error' in result) ? { ...interaction.lastSubmission, ...result } : result;
  await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
  return interaction.returnTo;
}

/** Hands the result back to oidc-provider and sends the browser on (303, so the form is not re-posted). */
export async function finishInteraction(ctx: Context, interaction: Interaction, result: InteractionResults, merge: boolean) {
  ctx.redirect(await storeResult(interaction, result, merge));
  ctx.status = 303;
}

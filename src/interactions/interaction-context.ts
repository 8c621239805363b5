import type { Context } from 'koa';
import { errors, type InteractionResults, type Provider } from 'oidc-provider';

/** Loads the interaction named in the URL; oidc-provider checks it against the browser's interaction cookie. */
export async function loadInteraction(provider: Provider, ctx: Context & { params: { uid?: string } }) {
  const interaction = await provider.interactionDetails(ctx.req, ctx.res);
  if (interaction.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction does not match this browser session');
  return interaction;
}

export type Interaction = Awaited<ReturnType<typeof loadInteraction>>;

/** Hands the result back to oidc-provider and sends the browser on (303, so the form is not re-posted). */
export async function finishInteraction(provider: Provider, ctx: Context, result: InteractionResults, merge: boolean) {
  const location = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
  ctx.redirect(location);
  ctx.status = 303;
}

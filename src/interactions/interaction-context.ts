import type { Context } from 'koa';
import { errors, type InteractionResults, type Provider } from 'oidc-provider';
import type { FoundRow } from '../store/batched-find.ts';
import { asOneRequest, keepFoundOfRequest } from '../store/request-prefetch.ts';

/**
 * The interaction named in the URL, when the browser holds its cookie (read as oidc-provider reads it:
 * signed with the provider's cookie keys); else SessionNotFound, as loading it would end.
 */
export function interactionOfBrowser(provider: Provider, ctx: Context & { params: { uid?: string } }): string {
  const uid = provider.createContext(ctx.req, ctx.res).cookies.get(provider.cookieName('interaction'));
  if (!uid || uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction does not match this browser session');
  return uid;
}

/**
 * Loads the interaction named in the URL; oidc-provider checks it against the browser's interaction
 * cookie. `found`: the interaction's row as the adapter's find reads it (undefined: there is none), read
 * a moment ago in this request (the pages' activity statement); the engine's find takes it instead of
 * asking again.
 */
export async function loadInteraction(provider: Provider, ctx: Context & { params: { uid?: string } }, found: FoundRow | undefined) {
  // Its session comes in the same statement as the interaction (store/request-prefetch.ts).
  const interaction = await asOneRequest(() => {
    if (ctx.params.uid !== undefined) keepFoundOfRequest('Interaction', ctx.params.uid, found);
    return provider.interactionDetails(ctx.req, ctx.res);
  });
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

import { Router } from '@koa/router';
import type { Context } from 'koa';
import { errors, type InteractionResults, type Provider } from 'oidc-provider';
import type { Db } from '../db/connect.ts';
import { authenticateCustomer, getCustomer } from '../customers/customer-service.ts';
import { readForm } from '../http/form-body.ts';
import type { Views } from '../http/views.ts';

/**
 * The pages of the authorization flow: sign-in, then approval of what the TPP asked for. Each handler
 * loads the interaction through oidc-provider, which checks the interaction cookie against the uid.
 */
export function interactionRouter(deps: { provider: Provider; db: Db; views: Views }) {
  const { provider, db, views } = deps;
  const router = new Router({ prefix: '/interaction/:uid' });

  async function load(ctx: Context) {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction does not match this browser session');
    const client = await provider.Client.find(String(interaction.params.client_id));
    const clientName = client?.clientName ?? String(interaction.params.client_id);
    return { interaction, clientName };
  }

  async function finish(ctx: Context, result: InteractionResults, merge: boolean) {
    const location = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.redirect(location);
    ctx.status = 303;
  }

  router.get('/', async (ctx) => {
    const { interaction, clientName } = await load(ctx);
    if (interaction.prompt.name === 'login') {
      views.render(ctx, 'login', { uid: interaction.uid, clientName });
      return;
    }
    const customer = interaction.session?.accountId ? await getCustomer(db, interaction.session.accountId) : undefined;
    const scopes = String(interaction.params.scope ?? '').split(' ').filter(Boolean);
    views.render(ctx, 'consent', { uid: interaction.uid, clientName, customerName: customer?.displayName ?? '', scopes });
  });

  router.post('/login', async (ctx) => {
    const { interaction, clientName } = await load(ctx);
    const form = await readForm(ctx);
    const username = form.username ?? '';
    const customer = await authenticateCustomer(db, username, form.password ?? '');
    if (!customer) {
      views.render(ctx, 'login', { uid: interaction.uid, clientName, username, error: 'The username or password is not correct.' }, 401);
      return;
    }
    await finish(ctx, { login: { accountId: customer.id, amr: ['pwd'] } }, false);
  });

  router.post('/confirm', async (ctx) => {
    const { interaction } = await load(ctx);
    const { prompt, params, session } = interaction;
    if (prompt.name !== 'consent' || !session) {
      views.render(ctx, 'error', { message: 'This step is not expected now. Start again from the application.' }, 400);
      return;
    }
    const grant = interaction.grantId
      ? await provider.Grant.find(interaction.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: String(params.client_id) });
    if (!grant) throw new Error('interaction references a grant that no longer exists');
    const details = prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    await finish(ctx, { consent: { grantId } }, true);
  });

  router.post('/abort', async (ctx) => {
    await load(ctx);
    await finish(ctx, { error: 'access_denied', error_description: 'the customer denied the request' }, false);
  });

  return router;
}

import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Db } from '../db/connect.ts';
import { getCustomer } from '../customers/customer-service.ts';
import type { Views } from '../http/views.ts';
import { finishInteraction, type LoadedInteraction } from './interaction-context.ts';

export interface ConsentStepDeps {
  provider: Provider;
  db: Db;
  views: Views;
}

export async function showConsent(deps: ConsentStepDeps, ctx: Context, { interaction, clientName }: LoadedInteraction) {
  const customer = interaction.session?.accountId ? await getCustomer(deps.db, interaction.session.accountId) : undefined;
  const scopes = String(interaction.params.scope ?? '').split(' ').filter(Boolean);
  deps.views.render(ctx, 'consent', { uid: interaction.uid, clientName, customerName: customer?.displayName ?? '', scopes });
}

export async function approveConsent(deps: ConsentStepDeps, ctx: Context, { interaction }: LoadedInteraction) {
  const { provider, views } = deps;
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
  await finishInteraction(provider, ctx, { consent: { grantId } }, true);
}

export async function denyConsent(deps: ConsentStepDeps, ctx: Context) {
  await finishInteraction(deps.provider, ctx, { error: 'access_denied', error_description: 'the customer denied the request' }, false);
}

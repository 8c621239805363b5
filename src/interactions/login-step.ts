import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Db } from '../db/connect.ts';
import { authenticateCustomer } from '../customers/customer-service.ts';
import { readForm } from '../http/form-body.ts';
import type { Views } from '../http/views.ts';
import { finishInteraction, type LoadedInteraction } from './interaction-context.ts';

export interface LoginStepDeps {
  provider: Provider;
  db: Db;
  views: Views;
}

export function showLogin(deps: LoginStepDeps, ctx: Context, { interaction, clientName }: LoadedInteraction) {
  deps.views.render(ctx, 'login', { uid: interaction.uid, clientName });
}

export async function submitLogin(deps: LoginStepDeps, ctx: Context, { interaction, clientName }: LoadedInteraction) {
  const form = await readForm(ctx);
  const username = form.username ?? '';
  const customer = await authenticateCustomer(deps.db, username, form.password ?? '');
  if (!customer) {
    deps.views.render(ctx, 'login', { uid: interaction.uid, clientName, username, error: 'The username or password is not correct.' }, 401);
    return;
  }
  await finishInteraction(deps.provider, ctx, { login: { accountId: customer.id, amr: ['pwd'] } }, false);
}

import type { Middleware } from 'koa';
import { INTERNAL_SCOPES } from '../protocol/scopes.ts';

/**
 * The engine's metadata (both well-known documents) says more than Assent serves, and no setting takes
 * it back (`discovery` only adds missing keys), so its answer is corrected here: the internal scopes are
 * not listed, and CIBA's user_code is not offered (the one-time code is entered on the customer's own
 * device, never handed to the TPP: src/ciba/backchannel-hooks.ts refuses a user_code).
 */
export const advertiseWhatAssentServes: Middleware = async (ctx, next) => {
  await next();
  if ((ctx as { oidc?: { route?: string } }).oidc?.route !== 'discovery') return;
  const metadata = ctx.body as { scopes_supported?: unknown; backchannel_user_code_parameter_supported?: unknown };
  if (Array.isArray(metadata.scopes_supported))
    metadata.scopes_supported = metadata.scopes_supported.filter((scope) => !INTERNAL_SCOPES.includes(scope));
  if (metadata.backchannel_user_code_parameter_supported !== undefined) metadata.backchannel_user_code_parameter_supported = false;
};

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { AssentError } from '../protocol/assent-error.ts';
import { readForm } from './form-body.ts';

/**
 * CSRF tokens for Assent's forms: an HMAC of what the form belongs to (an interaction uid), under a
 * key derived from the cookie keys, so every instance on one database issues and accepts the same
 * tokens and nothing needs storing. Pages read the token from `ctx.state.csrfToken`.
 */

export const CSRF_FIELD = 'csrf_token';

export class CsrfRejected extends AssentError {
  override name = 'CsrfRejected';
  constructor() {
    super(
      'csrf_rejected',
      'This form has expired or did not come from this site. Nothing was changed. Go back to the application and start again.',
      { status: 403 },
    );
  }
}

export interface Csrf {
  tokenFor(binding: string): string;
  matches(binding: string, presented: string | undefined): boolean;
}

function tokenWith(key: Buffer, binding: string) {
  return createHmac('sha256', key).update(binding).digest('base64url');
}

/** Comparing digests keeps the comparison constant-time whatever the presented length. */
function digest(value: string) {
  return createHash('sha256').update(value).digest();
}

/** `secrets` newest first: tokens use the newest, and tokens made with an older one still verify. */
export function createCsrf(secrets: readonly string[]): Csrf {
  if (secrets.length === 0) throw new Error('CSRF protection needs at least one secret');
  const keys = secrets.map((secret) => createHmac('sha256', secret).update('assent csrf v1').digest());
  return {
    tokenFor: (binding) => tokenWith(keys[0]!, binding),
    matches(binding, presented) {
      if (!presented) return false;
      const given = digest(presented);
      let matched = false;
      for (const key of keys) matched = timingSafeEqual(digest(tokenWith(key, binding)), given) || matched;
      return matched;
    },
  };
}

/** Gives the page its token; a POST without the right token is refused (403) before anything runs. */
export function csrfProtection(csrf: Csrf, bindingOf: (ctx: Context) => string): Middleware {
  return async (ctx, next) => {
    const binding = bindingOf(ctx);
    if (ctx.method === 'POST') {
      const form = await readForm(ctx);
      if (!csrf.matches(binding, form[CSRF_FIELD])) throw new CsrfRejected();
    }
    ctx.state.csrfToken = csrf.tokenFor(binding);
    await next();
  };
}

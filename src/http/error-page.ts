import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { AssentError } from '../protocol/assent-error.ts';
import { customerErrorMessage } from '../wording/error-wording.ts';
import { pageErrorOf } from './page-errors.ts';
import type { Views } from './views.ts';

interface HttpError {
  name?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
  error?: string;
}

/**
 * Renders errors of Assent's own pages in the customer's words (src/wording/error-wording.ts, by the
 * error's class or code) with the code for support; never a stack, never an English service message.
 */
export function errorPage(views: Views, logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (caught) {
      // Service errors read through the page table; the provider's and Koa's errors carry their own status.
      const page = caught instanceof AssentError ? pageErrorOf(caught) : undefined;
      const error: HttpError = caught instanceof AssentError ? { ...page, expose: page !== undefined, error: page?.code } : (caught as HttpError);
      const status = error.statusCode ?? error.status ?? 500;
      const w = views.wording(ctx);
      if (status >= 500 || !error.expose) {
        ((ctx.state.log as Logger | undefined) ?? logger).error({ err: caught, path: ctx.path }, 'request failed');
        views.render(ctx, 'error', { message: w.t('error.server'), code: 'server_error', startAgain: true }, 500);
        return;
      }
      views.render(ctx, 'error', { message: customerErrorMessage(w, error), code: error.error, startAgain: true }, status);
    }
  };
}

import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { customerErrorMessage } from '../wording/error-wording.ts';
import type { Views } from './views.ts';

interface HttpError {
  name?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
  error?: string;
}

/**
 * Renders errors of Assent's own pages in the customer's words (src/wording/error-wording.ts) with
 * the error code for support; never a stack, never the library's description.
 */
export function errorPage(views: Views, logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (caught) {
      const error = caught as HttpError;
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

import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { AssentError } from '../protocol/assent-error.ts';
import { pageErrorOf } from './page-errors.ts';
import type { Views } from './views.ts';

interface HttpError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  error?: string;
  error_description?: string;
  message?: string;
}

/** Renders errors of Assent's own pages; details only for errors meant for the user, never a stack. */
export function errorPage(views: Views, logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (caught) {
      // Service errors read through the page table; the provider's and Koa's errors carry their own status.
      const page = caught instanceof AssentError ? pageErrorOf(caught) : undefined;
      const error: HttpError = caught instanceof AssentError ? { ...page, expose: page !== undefined, error: page?.code } : (caught as HttpError);
      const status = error.statusCode ?? error.status ?? 500;
      if (status >= 500 || !error.expose) {
        ((ctx.state.log as Logger | undefined) ?? logger).error({ err: caught, path: ctx.path }, 'request failed');
        views.render(ctx, 'error', { message: 'An unexpected error occurred. Please try again later.', code: 'server_error' }, 500);
        return;
      }
      views.render(ctx, 'error', { message: error.error_description ?? error.message, code: error.error }, status);
    }
  };
}

import type { Middleware } from 'koa';
import type { Logger } from 'pino';
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
      const error = caught as HttpError;
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

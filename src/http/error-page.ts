import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { DatabaseUnavailable } from '../protocol/database-unavailable.ts';
import { AssentError } from '../protocol/assent-error.ts';
import { findRoute } from '../protocol/route-match.ts';
import { customerErrorMessage } from '../wording/error-wording.ts';
import type { MessageKey } from '../wording/messages.ts';
import { pageErrorOf } from './page-errors.ts';
import type { Views } from './views.ts';

interface HttpError {
  name?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
  error?: string;
  error_description?: string;
  message?: string;
}

/**
 * A customer's JSON route refusing in its own words (the device API's outcomes: a wrong code, a request
 * already decided): the status, the `error` code, the description already worded for the customer, and
 * how long to wait when waiting helps (Retry-After).
 */
export class CustomerApiRefusal extends Error {
  override name = 'CustomerApiRefusal';
  readonly expose = true;
  readonly status: number;
  readonly error: string;
  readonly retryAfterSeconds: number | undefined;
  constructor(status: number, error: string, description: string, retryAfterSeconds?: number) {
    super(description);
    this.status = status;
    this.error = error;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** What the failure looks like to the client: OAuth's `error` code, its description, the HTTP status. */
function describe(caught: unknown): { status: number; error: string | undefined; description: string; name?: string | undefined } {
  if (caught instanceof DatabaseUnavailable) return { status: 503, error: caught.error, description: caught.error_description };
  // Service errors read through the page table; the provider's and Koa's errors carry their own status.
  const page = caught instanceof AssentError ? pageErrorOf(caught) : undefined;
  const error: HttpError =
    caught instanceof AssentError ? { ...page, expose: page !== undefined, error: page?.code } : (caught as HttpError);
  const status = error.statusCode ?? error.status ?? 500;
  if (status >= 500 || !error.expose) return { status: 500, error: 'server_error', description: 'an unexpected error occurred' };
  return { status, error: error.error, description: error.error_description ?? error.message ?? '', name: error.name };
}

/** Customers read these in their language; errors a page may explain are worded by class or code. */
const PAGE_MESSAGES: Record<number, MessageKey> = {
  500: 'error.server',
  503: 'error.unavailable',
};

/**
 * The outermost error handler of Assent's own middleware (rate limits, pages, assets): every error
 * leaves in a standard shape, never Koa's text/plain. The route table says who calls the path: a
 * client's route (a TPP at /token or /request, whose rate limit runs here) and any JSON API get OAuth
 * JSON; a customer's page, or a path the table does not know, gets the styled page. Details only for errors
 * meant for the caller, never a stack; a lost database is 503 with Retry-After.
 */
export function errorPage(views: Views, logger: Logger): Middleware {
  return async (ctx: Context, next) => {
    try {
      await next();
    } catch (caught) {
      const { status, error, description, name } = describe(caught);
      if (status >= 500) ((ctx.state.log as Logger | undefined) ?? logger).error({ err: caught, path: ctx.path }, 'request failed');
      const retryAfter =
        caught instanceof DatabaseUnavailable || caught instanceof CustomerApiRefusal ? caught.retryAfterSeconds : undefined;
      if (retryAfter !== undefined) ctx.set('Retry-After', String(retryAfter));
      ctx.set('Cache-Control', 'no-store');
      const route = findRoute(ctx.method, ctx.path);
      // A customer's JSON API (the bank app's device endpoint) answers in JSON like every other program.
      if (route === undefined || (route.caller === 'customer' && route.operationId === undefined)) {
        const w = views.wording(ctx);
        const pageMessage = PAGE_MESSAGES[status];
        views.render(
          ctx,
          'error',
          { message: pageMessage ? w.t(pageMessage) : customerErrorMessage(w, { name, error }), code: error, startAgain: true },
          status,
        );
        return;
      }
      ctx.status = status;
      ctx.body = { error: error ?? 'invalid_request', error_description: description };
    }
  };
}

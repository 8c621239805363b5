import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';

/** The request's own logger, so oidc-provider's events (which carry only the raw request) log with its ids. */
const requestLoggers = new WeakMap<IncomingMessage, () => Logger>();

export function loggerFor(req: IncomingMessage, fallback: Logger): Logger {
  return requestLoggers.get(req)?.() ?? fallback;
}

/**
 * One line per request when its response closes (`aborted` when the client left first), and a child
 * logger (`ctx.state.log`) for everything logged while serving it; both carry `reqId` and the FAPI
 * interaction id. Runs after securityHeaders, which settles the interaction id. The query string is
 * left out: it can carry request_uri handles and other one-time values. The child is made on first
 * use: at the usual levels most requests log nothing, and making one (its bindings go through the
 * redaction) was a measurable share of a hot-path request.
 */
export function requestLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const reqId = randomUUID();
    let child: Logger | undefined;
    const log = () => (child ??= logger.child({ reqId, interactionId: ctx.state.interactionId as string }));
    Object.defineProperty(ctx.state, 'log', { get: log, enumerable: true, configurable: true });
    requestLoggers.set(ctx.req, log);
    if (logger.isLevelEnabled('debug'))
      log().debug(
        { req: { method: ctx.method, path: ctx.path, headers: ctx.headers, remoteAddress: ctx.req.socket.remoteAddress } },
        'request received',
      );
    ctx.res.once('close', () => {
      if (!logger.isLevelEnabled('info')) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const aborted = !ctx.res.writableFinished;
      log().info(
        { method: ctx.method, path: ctx.path, status: ctx.res.statusCode, ms: Math.round(ms * 10) / 10, ...(aborted && { aborted }) },
        'request completed',
      );
    });
    await next();
  };
}

const PROVIDER_ERROR_EVENTS = [
  'authorization.error',
  'grant.error',
  'pushed_authorization_request.error',
  'introspection.error',
  'revocation.error',
  'registration_create.error',
  'registration_read.error',
  'registration_update.error',
  'registration_delete.error',
  'userinfo.error',
  'end_session.error',
  'discovery.error',
  'jwks.error',
] as const;

/** OAuth errors the provider answered with: the code and description only, never request parameters. */
export function logProviderErrors(provider: Provider, logger: Logger) {
  // The typings list only some of these events; the provider is an EventEmitter for all of them.
  const emitter = provider as unknown as EventEmitter;
  for (const event of PROVIDER_ERROR_EVENTS) {
    emitter.on(event, (ctx: { req: IncomingMessage }, error: { error?: string; error_description?: string; status?: number }) => {
      loggerFor(ctx.req, logger).info(
        { event, error: error.error, error_description: error.error_description, status: error.status },
        'oauth error',
      );
    });
  }
  provider.on('server_error', (ctx, error) => loggerFor(ctx.req, logger).error({ err: error }, 'oidc-provider server error'));
}

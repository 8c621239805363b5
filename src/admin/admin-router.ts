import type { TLSSocket } from 'node:tls';
import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Db } from '../db/connect.ts';
import { type AdminOperation, AdminError, type Operator, operatorOf } from './admin-operation.ts';
import { ADMIN_API_PREFIX, ADMIN_OPENAPI_PATH, ADMIN_OPERATIONS, apiInventory } from './admin-operations.ts';
import { AssentError } from '../protocol/assent-error.ts';
import { tokenMatches } from './admin-credentials.ts';
import { ADMIN_ERROR_OF } from './admin-errors.ts';
import { firstIssue } from './input-issues.ts';
import { declaredRoutes } from '../http/declared-routes.ts';
import type { EdgeRefusal } from '../http/hostile-input.ts';
import type { OperatorState } from '../http/route-guard.ts';
import { type JsonBodyFault, JsonBodyRefused, readJsonBody } from '../http/json-body.ts';

/** How the admin API words a body the JSON reader (http/json-body.ts) refused. */
const BODY_REFUSALS: Record<JsonBodyFault, (message: string) => string> = {
  media_type: () => 'the body must be application/json',
  too_large: () => 'request body too large',
  malformed: () => 'the body is not valid JSON',
  invalid: (message) => message,
};

/** The admin API's reading of service errors (through its table) and of refused bodies; anything else unchanged. */
function adminErrorOf(thrown: unknown): unknown {
  if (thrown instanceof AssentError && thrown.expose) return new AdminError(ADMIN_ERROR_OF[thrown.code], thrown.message, { cause: thrown });
  if (thrown instanceof JsonBodyRefused)
    return new AdminError('invalid_request', BODY_REFUSALS[thrown.fault](thrown.message), { cause: thrown });
  return thrown;
}

/** Errors as `{error, error_description}`; anything unexpected is a logged 500 that says nothing more. */
export function adminErrors(logger: Logger) {
  return async (ctx: Context, next: () => Promise<unknown>) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new AdminError('not_found', 'no such admin API route');
    } catch (thrown) {
      const error = adminErrorOf(thrown);
      const known = error instanceof AdminError;
      if (!known) logger.error({ err: error, path: ctx.path }, 'admin API request failed');
      ctx.status = known ? error.status : 500;
      ctx.body = known
        ? { error: error.code, error_description: error.message }
        : { error: 'server_error', error_description: 'the operation failed; see the server log' };
    }
  };
}

/**
 * Input refused at the edge (http/hostile-input.ts: NUL characters, unpaired surrogates, a body over
 * the limit), before it reaches an operation or Postgres, answered in the admin API's shape.
 */
export const adminRefusal: EdgeRefusal = (ctx, status, description) => {
  ctx.status = status;
  ctx.body = { error: 'invalid_request', error_description: description };
};

/** What an operator may call themselves when they present the shared admin token (recorded in the audit trail). */
const OPERATOR_NAME = /^[\w.@-]{1,64}$/;
export const OPERATOR_HEADER = 'x-assent-operator';

export interface AdminRouterDeps {
  db: Db;
  config: Config;
  logger: Logger;
  token: string | undefined;
  signingKeysChanged?: () => Promise<void>;
  /** The admin API's part of the one OpenAPI document (src/openapi/), built by the server above this layer. */
  openApi: object;
}

/** An admin client certificate (verified against ADMIN_CLIENT_CA_FILE by the listener) names its operator by CN. */
function certificateOperator(ctx: Context): Operator | undefined {
  const socket = ctx.req.socket as Partial<TLSSocket>;
  if (!socket.authorized || !socket.getPeerX509Certificate) return undefined;
  const subject = socket.getPeerX509Certificate()?.subject ?? '';
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(subject)?.[1];
  return cn ? operatorOf(cn, 'client-certificate') : undefined;
}

/**
 * The route guard's proof of an operator (every `admin_credentials` row): an admin client certificate,
 * else the admin token, whose bearer names themselves in X-Assent-Operator. The audit records which.
 */
function authenticate(ctx: Context, token: string | undefined): Operator {
  const fromCertificate = certificateOperator(ctx);
  if (fromCertificate) return fromCertificate;
  const presented = /^Bearer ([\x21-\x7e]+)$/.exec(ctx.get('authorization'))?.[1];
  if (!token || !presented || !tokenMatches(presented, token)) {
    ctx.set('WWW-Authenticate', 'Bearer realm="assent-admin"');
    throw new AdminError('unauthorized', 'an admin token (Authorization: Bearer) or an admin client certificate is required');
  }
  const name = ctx.get(OPERATOR_HEADER);
  return operatorOf(OPERATOR_NAME.test(name) ? name : 'unnamed', 'admin-token');
}

/** The operation's fields from a JSON object body; a POST without a body has none. */
async function readJson(ctx: Context): Promise<Record<string, unknown>> {
  const body = await readJsonBody(ctx, 'object-untyped');
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new AdminError('invalid_request', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function handler(operation: AdminOperation, deps: AdminRouterDeps) {
  return async (ctx: Context & { state: OperatorState<Operator> }) => {
    const { operator } = ctx.state;
    const fields = operation.method === 'GET' ? { ...ctx.query } : await readJson(ctx);
    const parsed = operation.input.safeParse({ ...fields, ...ctx.params });
    if (!parsed.success) throw new AdminError('invalid_request', firstIssue(parsed.error));
    const result = await operation.run(
      { db: deps.db, config: deps.config, operator, ...(deps.signingKeysChanged && { signingKeysChanged: deps.signingKeysChanged }) },
      parsed.data,
    );
    if (operation.method !== 'GET') {
      deps.logger.warn(
        { securityEvent: 'admin.action', operation: operation.name, operator: operator.name, via: operator.via, target: ctx.params },
        'security event',
      );
    }
    ctx.set('Cache-Control', 'no-store');
    if (operation.format === 'jsonl') {
      ctx.type = 'application/jsonl';
      ctx.body = (result as unknown[]).map((line) => `${JSON.stringify(line)}\n`).join('');
    } else {
      ctx.body = result;
    }
  };
}

/**
 * The admin API: every operation of ADMIN_OPERATIONS at its path, JSON in and out, each mounted from its
 * row of the API inventory behind the guard of its credential (admin_credentials).
 */
export function adminRouter(deps: AdminRouterDeps): Router {
  const router = new Router();
  const routes = declaredRoutes(router, { operator: { authenticateOperator: (ctx) => authenticate(ctx, deps.token) } }, apiInventory());
  routes.open(`GET ${ADMIN_OPENAPI_PATH}`, (ctx) => {
    ctx.body = deps.openApi;
  });
  for (const operation of ADMIN_OPERATIONS)
    routes.operator(`${operation.method} ${ADMIN_API_PREFIX}${operation.path}`, handler(operation, deps));
  return router;
}

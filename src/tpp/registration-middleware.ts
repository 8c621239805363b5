import type { Transaction } from 'kysely';
import type { Context, Next } from 'koa';
import { inAmbientTransaction } from '../db/ambient-transaction.ts';
import type { Db } from '../db/connect.ts';
import { DatabaseUnavailable } from '../protocol/database-unavailable.ts';
import type { Database } from '../db/schema.ts';
import { providerOf } from '../engine/engine-internals.ts';
import type { ClientCertificateReader } from '../http/client-certificate.ts';
import type { OutboundFetch } from '../http/outbound-fetch.ts';
import { auditedClientFields, buildClientMetadata } from './client-metadata.ts';
import { RegistrationError } from './registration-error.ts';
import { readJsonObject, readRegistration, replaceBody } from './registration-request.ts';
import { type SoftwareStatement, verifySoftwareStatement } from './software-statement.ts';
import { recordStatementUse } from './tpp-repository.ts';
import {
  getSoftwareStatement,
  getTppProfile,
  isOrganisationSuspended,
  recordDeletion,
  recordRegistration,
  recordUpdate,
} from './tpp-service.ts';
import type { DirectoryKeyring } from './trusted-directories.ts';

/**
 * Dynamic client registration for TPPs, in front of oidc-provider's own registration routes (mounted
 * with `provider.use`). oidc-provider runs registration `policies` only for initial access tokens, and
 * TPPs present software statements instead, so the statement checks run here: verify, check, hand the
 * resulting metadata to the provider, and commit the provider's client, the TPP record, the statement's
 * jti and the audit event in one transaction, or none of them.
 */

export interface RegistrationDeps {
  db: Db;
  issuer: string;
  keyring: DirectoryKeyring;
  outbound: OutboundFetch;
  presentedCertificate: ClientCertificateReader;
  /** oidc-provider's `routes.registration`. */
  path: string;
}

type Body = Record<string, unknown>;
type Trx = Transaction<Database>;

/** The provider answered with something other than success: its response stands, the transaction rolls back. */
class ProviderRefused extends Error {}

async function throughProvider(
  db: Db,
  ctx: Context,
  next: Next,
  expected: number,
  steps: { before?: (trx: Trx) => Promise<void>; after: (trx: Trx, body: Body) => Promise<void> },
) {
  try {
    await inAmbientTransaction(db, async (trx) => {
      await steps.before?.(trx);
      await next();
      if (ctx.status !== expected) throw new ProviderRefused();
      await steps.after(trx, ctx.body as Body);
    });
  } catch (error) {
    if (!(error instanceof ProviderRefused)) throw error;
  }
}

/** RFC 7591 3.2.1: the statement comes back unmodified, with what Assent took from it. */
function statementFields(statement: SoftwareStatement) {
  const { claims } = statement;
  return {
    software_statement: statement.jwt,
    software_id: claims.software_id,
    org_id: claims.org_id,
    software_roles: claims.software_roles,
  };
}

function bearerToken(ctx: Context): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1];
}

function replayGuard(statement: SoftwareStatement) {
  return async (trx: Trx) => {
    const { iss, jti, exp } = statement.claims;
    if (!(await recordStatementUse(trx, { directory: iss, jti, expiresAt: new Date(exp * 1000) }))) {
      throw new RegistrationError('invalid_software_statement', 'software statement has been presented before (jti replay)');
    }
  };
}

async function currentMetadata(ctx: Context, clientId: string): Promise<Body> {
  const client = await providerOf(ctx).Client.find(clientId);
  return client ? auditedClientFields(client.metadata() as Body) : {};
}

export function tppRegistration(deps: RegistrationDeps) {
  const { db } = deps;
  const clientPath = new RegExp(`^${deps.path}/([^/]+)$`);
  const metadataContext = (ctx: Context) => ({ certificate: deps.presentedCertificate(ctx.req)?.certificate, outbound: deps.outbound });

  async function register(ctx: Context, next: Next) {
    const { request, statement } = await readRegistration(ctx, deps);
    if (await isOrganisationSuspended(db, statement.claims.org_id)) {
      throw new RegistrationError('unauthorized_client', `organisation ${statement.claims.org_id} is suspended`);
    }
    const metadata = await buildClientMetadata(request, statement.claims, metadataContext(ctx));
    replaceBody(ctx, metadata);
    await throughProvider(db, ctx, next, 201, {
      before: replayGuard(statement),
      async after(trx, body) {
        await recordRegistration(trx, { clientId: String(body.client_id), statement, client: auditedClientFields(body) });
        Object.assign(body, statementFields(statement));
      },
    });
  }

  async function update(ctx: Context, next: Next, clientId: string) {
    const request = await readJsonObject(ctx);
    const stored = (await getSoftwareStatement(db, clientId))!;
    let statement = stored;
    if (request.software_statement !== undefined) {
      statement = await verifySoftwareStatement(request.software_statement, deps.keyring);
      if (statement.claims.software_id !== stored.claims.software_id || statement.claims.org_id !== stored.claims.org_id) {
        throw new RegistrationError(
          'invalid_software_statement',
          'the new software statement is for different software or another organisation',
        );
      }
    }
    const metadata = await buildClientMetadata(request, statement.claims, metadataContext(ctx));
    const before = await currentMetadata(ctx, clientId);
    replaceBody(ctx, metadata);
    await throughProvider(db, ctx, next, 200, {
      ...(statement !== stored && { before: replayGuard(statement) }),
      async after(trx, body) {
        await recordUpdate(trx, { clientId, statement, before, client: auditedClientFields(body) });
        Object.assign(body, statementFields(statement));
      },
    });
  }

  async function remove(ctx: Context, next: Next, clientId: string) {
    const before = await currentMetadata(ctx, clientId);
    await throughProvider(db, ctx, next, 204, {
      after: (trx) => recordDeletion(trx, { clientId, before }),
    });
  }

  async function read(ctx: Context, next: Next, clientId: string) {
    await next();
    const statement = ctx.status === 200 ? await getSoftwareStatement(db, clientId) : undefined;
    if (statement) Object.assign(ctx.body as Body, statementFields(statement));
  }

  /** RFC 7592 calls of a TPP's client; clients without a TPP record are left to the provider. */
  async function manage(ctx: Context, next: Next, clientId: string) {
    const tpp = await getTppProfile(db, clientId);
    const token = bearerToken(ctx);
    const registrationToken = token === undefined ? undefined : await providerOf(ctx).RegistrationAccessToken.find(token);
    // Without the client's own registration access token the provider answers (401 invalid_token).
    if (!tpp || tpp.status === 'deleted' || registrationToken?.clientId !== clientId) return next();
    if (tpp.status === 'suspended') throw new RegistrationError('invalid_client', 'the TPP is suspended');
    if (ctx.method === 'GET') return read(ctx, next, clientId);
    if (ctx.method === 'PUT') return update(ctx, next, clientId);
    if (ctx.method === 'DELETE') return remove(ctx, next, clientId);
    return next();
  }

  /** The client id of a management path; undefined for other paths (and malformed escapes, left to the provider). */
  function managedClientId(path: string): string | undefined {
    const encoded = clientPath.exec(path)?.[1];
    if (encoded === undefined) return undefined;
    try {
      return decodeURIComponent(encoded);
    } catch {
      return undefined;
    }
  }

  return async function registrationMiddleware(ctx: Context, next: Next) {
    const clientId = managedClientId(ctx.path);
    if (ctx.path !== deps.path && clientId === undefined) return next();
    try {
      if (ctx.path === deps.path) return ctx.method === 'POST' ? await register(ctx, next) : await next();
      return await manage(ctx, next, clientId!);
    } catch (error) {
      ctx.set('Cache-Control', 'no-store');
      if (error instanceof RegistrationError) {
        ctx.status = error.status;
        ctx.body = error.toJSON();
        return;
      }
      if (error instanceof DatabaseUnavailable) {
        ctx.status = 503;
        ctx.set('Retry-After', String(error.retryAfterSeconds));
        ctx.body = { error: error.error, error_description: error.error_description };
        return;
      }
      // Stack traces stay in the logs (app.ts listens for server_error); the transaction has rolled back.
      providerOf(ctx).emit('server_error', ctx, error);
      ctx.status = 500;
      ctx.body = { error: 'server_error', error_description: 'registration failed; nothing was stored' };
    }
  };
}

import { BodyTooLarge, readRequestBody } from '../http/request-body.ts';
import type { Context } from 'koa';
import { createLocalJWKSet, decodeJwt, type JSONWebKeySet, jwtVerify } from 'jose';
import type { OutboundFetch } from '../http/outbound-fetch.ts';
import { RegistrationError } from './registration-error.ts';
import { FAPI_ALGORITHMS } from '../protocol/algorithms.ts';
import { type SoftwareStatement, verifySoftwareStatement } from './software-statement.ts';
import type { DirectoryKeyring } from './trusted-directories.ts';

/**
 * Reads a registration request in either accepted form: RFC 7591 JSON carrying `software_statement`,
 * or the UK Open Banking form, a JWT (`Content-Type: application/jwt`) signed by the TPP with a key of
 * its software statement, whose claims are the metadata.
 */

const BODY_LIMIT = 56 * 1024;
const REQUEST_CLAIMS = ['iss', 'aud', 'iat', 'exp', 'nbf', 'jti'];

export interface ParsedRegistration {
  request: Record<string, unknown>;
  statement: SoftwareStatement;
}

export interface RequestContext {
  issuer: string;
  keyring: DirectoryKeyring;
  outbound: OutboundFetch;
}

const metadataError = (description: string, cause?: unknown) =>
  new RegistrationError('invalid_client_metadata', description, cause === undefined ? undefined : { cause });

async function readText(ctx: Context): Promise<string> {
  const tooLarge = () => metadataError(`registration requests are limited to ${BODY_LIMIT} bytes`);
  const body = await readRequestBody(ctx).catch((error: unknown) => {
    throw error instanceof BodyTooLarge ? tooLarge() : error;
  });
  if (body.length > BODY_LIMIT) throw tooLarge();
  return body.toString('utf8');
}

/** A JSON object body (registration or RFC 7592 update). */
export async function readJsonObject(ctx: Context): Promise<Record<string, unknown>> {
  if (!ctx.is('application/json')) throw metadataError('the request body must be application/json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readText(ctx));
  } catch (error) {
    throw metadataError('the request body is not valid JSON', error);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw metadataError('the request body must be a JSON object');
  return { ...(parsed as Record<string, unknown>) };
}

async function softwareKeys(statement: SoftwareStatement, outbound: OutboundFetch): Promise<JSONWebKeySet> {
  const { software_jwks: inline, software_jwks_endpoint: endpoint } = statement.claims;
  if (inline) return inline as JSONWebKeySet;
  if (!endpoint) {
    throw new RegistrationError(
      'invalid_software_statement',
      'the software statement names no software_jwks or software_jwks_endpoint to verify a signed registration request with',
    );
  }
  try {
    return (await outbound.json(endpoint)) as JSONWebKeySet;
  } catch (error) {
    throw new RegistrationError('invalid_software_statement', `software_jwks_endpoint cannot be used: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function readSignedRequest(jwt: string, context: RequestContext): Promise<ParsedRegistration> {
  let unverified: Record<string, unknown>;
  try {
    unverified = decodeJwt(jwt);
  } catch (error) {
    throw metadataError('the application/jwt body is not a JWT', error);
  }
  const statement = await verifySoftwareStatement(unverified.software_statement, context.keyring);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(jwt, createLocalJWKSet(await softwareKeys(statement, context.outbound)), {
      algorithms: [...FAPI_ALGORITHMS],
      audience: context.issuer,
      issuer: statement.claims.software_id,
      requiredClaims: ['exp'],
      clockTolerance: 30,
    }));
  } catch (error) {
    if (error instanceof RegistrationError) throw error;
    throw metadataError(
      `the signed registration request does not verify with the software statement's keys: ${(error as Error).message}`,
      error,
    );
  }
  const request = Object.fromEntries(Object.entries(payload).filter(([claim]) => !REQUEST_CLAIMS.includes(claim)));
  return { request, statement };
}

export async function readRegistration(ctx: Context, context: RequestContext): Promise<ParsedRegistration> {
  if (ctx.is('application/jwt')) return readSignedRequest((await readText(ctx)).trim(), context);
  if (!ctx.is('application/json')) throw metadataError('registration requests are application/json or application/jwt');
  const request = await readJsonObject(ctx);
  return { request, statement: await verifySoftwareStatement(request.software_statement, context.keyring) };
}

/**
 * Hands the checked metadata to oidc-provider's registration route. The body stream has been read,
 * so the library takes the already-parsed body (it warns once per process that it did so).
 */
export function replaceBody(ctx: Context, metadata: Record<string, unknown>): void {
  ctx.req.headers['content-type'] = 'application/json';
  (ctx.request as { body?: unknown }).body = metadata;
  // The library prefers req.body, where the edge check left the raw text (http/hostile-input.ts).
  (ctx.req as { body?: unknown }).body = metadata;
}

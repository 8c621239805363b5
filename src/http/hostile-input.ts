import type { Context, Middleware } from 'koa';
import { BodyTooLarge, readRequestBody } from './request-body.ts';

/**
 * Input no protocol here has a use for, refused at the edge before any router, the provider or
 * Postgres sees it: NUL characters and unpaired surrogates (which Postgres text and jsonb cannot
 * store, and no identifier, name or amount contains) anywhere in the path, the query, a form, a JSON
 * body or the payload of a JWT carried in one of them or in the DPoP header (a request object,
 * client assertion, software statement), and JSON nested deeper than any real request. Each surface
 * answers the refusal in its own protocol's shape (app.ts); nothing has been read or written.
 */

/** UK OB Risk and RFC 9396 authorization_details nest a few levels; a registration's JWKS four. */
export const MAX_JSON_DEPTH = 32;

const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]*$/;

type Problem = string | undefined;

function checkText(text: string, where: string): Problem {
  if (text.includes('\0')) return `${where} contains a NUL character`;
  if (!text.isWellFormed()) return `${where} contains an unpaired surrogate`;
  if (COMPACT_JWS.test(text)) return checkJwt(text, where);
  return undefined;
}

/** The deepest nesting of a JSON text, counted without parsing it (so a deep one costs no recursion). */
function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') deepest = Math.max(deepest, ++depth);
    else if (c === '}' || c === ']') depth -= 1;
  }
  return deepest;
}

/** Every key and string of a JSON text; text that is not JSON is left for its reader to refuse. */
function checkJson(text: string, where: string): Problem {
  let parsed: unknown;
  try {
    // V8 parses iteratively, so even a very deep text costs no stack here.
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: the endpoint's own parser answers that in its protocol's words.
    return undefined;
  }
  if (jsonDepth(text) > MAX_JSON_DEPTH) return `${where} is nested deeper than ${MAX_JSON_DEPTH} levels`;
  const pending: unknown[] = [parsed];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      const problem = checkText(value, where);
      if (problem) return problem;
    } else if (Array.isArray(value)) pending.push(...value);
    else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        const problem = checkText(key, where);
        if (problem) return problem;
        pending.push(inner);
      }
    }
  }
  return undefined;
}

/** The header and payload of a compact JWS, before anyone verifies or stores what they claim. */
function checkJwt(jws: string, where: string): Problem {
  for (const segment of jws.split('.').slice(0, 2)) {
    // A raw NUL in the JSON would not parse, for the JWT's verifier either; escaped ones are found here.
    const problem = checkJson(Buffer.from(segment, 'base64url').toString('utf8'), `${where} (a JWT)`);
    if (problem) return problem;
  }
  return undefined;
}

function checkPairs(pairs: URLSearchParams, where: string): Problem {
  for (const [key, value] of pairs) {
    const problem = checkText(key, where) ?? checkText(value, `${where} parameter ${key.slice(0, 40)}`);
    if (problem) return problem;
  }
  return undefined;
}

function checkPath(path: string): Problem {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return 'the request path is not valid percent-encoded UTF-8';
  }
  return checkText(decoded, 'the request path');
}

const BODY_TYPES = ['application/x-www-form-urlencoded', 'application/json', '+json', 'application/jwt'];

async function checkBody(ctx: Context): Promise<Problem> {
  if (!ctx.request.type || !ctx.is(BODY_TYPES)) return undefined;
  const text = (await readRequestBody(ctx)).toString('utf8');
  // oidc-provider takes an already-read body from req.body (its routes parse it themselves).
  (ctx.req as { body?: unknown }).body = text;
  if (ctx.is('application/x-www-form-urlencoded'))
    return text.includes('\0') ? 'the form contains a NUL character' : checkPairs(new URLSearchParams(text), 'the form');
  if (ctx.is('application/jwt')) return checkText(text.trim(), 'the request body');
  return text.includes('\0') ? 'the request body contains a NUL character' : checkJson(text, 'the request body');
}

/** Why the request must be refused at the edge; undefined when nothing hostile was found. */
async function findHostileInput(ctx: Context): Promise<Problem> {
  const dpop = ctx.get('dpop');
  return (
    checkPath(ctx.path) ??
    checkPairs(new URLSearchParams(ctx.querystring), 'the query') ??
    (dpop ? checkText(dpop, 'the DPoP header') : undefined) ??
    (await checkBody(ctx))
  );
}

export type EdgeRefusal = (ctx: Context, status: 400 | 413, description: string) => void;

/** Answers hostile input with `refuse` (the surface's protocol shape) and lets everything else through. */
export function refuseHostileInput(refuse: EdgeRefusal): Middleware {
  return async (ctx, next) => {
    let problem: Problem;
    try {
      problem = await findHostileInput(ctx);
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error;
      return refuse(ctx, 413, error.message);
    }
    if (problem) return refuse(ctx, 400, problem);
    await next();
  };
}

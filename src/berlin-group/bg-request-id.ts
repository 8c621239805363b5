import type { Context } from 'koa';

/**
 * X-Request-ID: "ID of the request, unique to the call, as determined by the initiating party", a UUID
 * (NextGenPSD2 OpenAPI file, parameter and header X-Request-ID: `format: uuid`, required on every request
 * and every response). Any 36-character UUID is accepted, whatever its version, as adorsys/xs2a does
 * ("standard 36-char UUID representation").
 */
export const REQUEST_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * The request's X-Request-ID to echo on the answer: only a well-formed one (a missing or malformed one is
 * refused as FORMAT_ERROR by the header check, and its text is not sent back in a header).
 */
export function echoedRequestId(ctx: Context): string | undefined {
  const value = ctx.get('X-Request-ID');
  return REQUEST_ID.test(value) ? value : undefined;
}

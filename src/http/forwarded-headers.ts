import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import type { OwnConnections } from './trusted-proxies.ts';

const FORWARDED = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded'] as const;

function hops(value: string | string[] | undefined): string[] {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined
    .split(',')
    .map((hop) => hop.trim())
    .filter(Boolean);
}

export interface ForwardedTrust {
  isTrustedProxy: (address: string | undefined) => boolean;
  ownConnections: OwnConnections;
}

/**
 * Behind a TLS-terminating proxy, Koa (`proxy: true`) and oidc-provider read X-Forwarded-For/-Proto/-Host
 * from any peer and believe the leftmost address, so a client could choose its own address (its
 * rate-limit key) and scheme. This rewrites the headers before anything reads them:
 * - from a peer outside TRUSTED_PROXIES they are removed, so the socket's own address and scheme count;
 * - from a trusted proxy, X-Forwarded-For becomes the one address that proxy saw: the rightmost hop
 *   that is not itself a trusted proxy (whatever the client wrote further left is its own claim), and
 *   scheme and host become the value the nearest proxy set.
 * The server's own loopback requests keep their scheme marker (see OwnConnections).
 */
export function forwardedHeaders(trust: ForwardedTrust): Middleware {
  return (ctx, next) => {
    rewriteForwarded(ctx.req, trust);
    return next();
  };
}

export function rewriteForwarded(req: IncomingMessage, trust: ForwardedTrust): void {
  const { headers, socket } = req;
  if (trust.ownConnections.isOwn(socket)) return;
  if (!trust.isTrustedProxy(socket.remoteAddress)) {
    for (const name of FORWARDED) delete headers[name];
    return;
  }
  const chain = hops(headers['x-forwarded-for']);
  while (chain.length > 1 && trust.isTrustedProxy(chain.at(-1))) chain.pop();
  const client = chain.at(-1);
  if (client === undefined) delete headers['x-forwarded-for'];
  else headers['x-forwarded-for'] = client;
  for (const name of ['x-forwarded-proto', 'x-forwarded-host'] as const) {
    const nearest = hops(headers[name]).at(-1);
    if (nearest === undefined) delete headers[name];
    else headers[name] = nearest;
  }
  // RFC 7239 Forwarded is not produced by the shipped proxy; it is dropped rather than half-believed.
  delete headers.forwarded;
}

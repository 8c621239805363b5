import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { CustomFetch } from 'openid-client';
import { Agent, buildConnector, fetch } from 'undici';
import type { OwnConnections } from '../http/trusted-proxies.ts';

/**
 * How the dashboard reaches Assent's own endpoints (PAR, token, JWKS) from inside the server process.
 *
 * The requests keep the issuer's URL, so Host, `htu` of DPoP proofs and the client assertion's `aud`
 * are exactly what an outside client would send; only the socket is redirected to the local listener.
 * The public name may not resolve from the server itself (load balancers, split DNS), and the request
 * still runs the whole HTTP stack. Over TLS the listener must present exactly the server's own
 * certificate (pinned by fingerprint), which holds whatever CA issued it. Behind a TLS-terminating
 * proxy the listener speaks plain HTTP, and the request says it arrived over https as the proxy would.
 */

export interface LocalListener {
  /** The address the server listens on; a wildcard address is reached through loopback. */
  host: string;
  port: number;
  /** The server certificate (PEM) when Node terminates TLS; undefined behind a TLS-terminating proxy. */
  certificatePem: string | undefined;
  /** Behind a proxy: where the connections are registered as the server's own, so its scheme marker is believed. */
  ownConnections?: OwnConnections;
}

function loopbackHost(host: string) {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function pinnedConnector(listener: LocalListener): buildConnector.connector {
  const expected = listener.certificatePem && new X509Certificate(listener.certificatePem).fingerprint256;
  // No TLS session cache: a resumed session presents no certificate to pin, so every connection after the
  // first would be refused (a customer's sign-in failing with 500 once the first connection closed).
  const connect = buildConnector({ rejectUnauthorized: false, maxCachedSessions: 0 });
  return (options, callback) => {
    const target = {
      ...options,
      hostname: loopbackHost(listener.host),
      port: String(listener.port),
      protocol: expected ? 'https:' : 'http:',
      servername: options.hostname,
    };
    connect(target, (error, socket) => {
      if (error) return callback(error, null);
      const presented = expected ? (socket as TLSSocket).getPeerX509Certificate()?.fingerprint256 : undefined;
      if (expected && presented !== expected) {
        socket!.destroy();
        return callback(new Error('the local listener did not present the server certificate'), null);
      }
      listener.ownConnections?.add(socket!);
      return callback(null, socket!);
    });
  };
}

export function loopbackFetch(listener: LocalListener): CustomFetch {
  const dispatcher = new Agent({ connect: pinnedConnector(listener) });
  const behindProxy = listener.certificatePem === undefined;
  return (url, options) => {
    const headers = behindProxy ? { ...options.headers, 'x-forwarded-proto': 'https' } : options.headers;
    return fetch(url, { ...options, headers, dispatcher } as Parameters<typeof fetch>[1]) as unknown as ReturnType<CustomFetch>;
  };
}

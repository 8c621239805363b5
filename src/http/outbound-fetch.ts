import dns from 'node:dns';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import { rootCertificates } from 'node:tls';

/**
 * The SSRF guard: every URL the server fetches on someone else's say-so (a client's jwks_uri, a
 * directory's JWKS, a sector_identifier_uri) goes through here. HTTPS only; the addresses a name
 * resolves to are checked and then connected to, so a DNS answer cannot change between check and use;
 * no redirects; connect and total timeouts; a cap on the response size.
 */

export interface OutboundSettings {
  /** Host names or IP literals exempt from the address check (tests, a dev directory on localhost). */
  allowedHosts: string[];
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  maxResponseBytes: number;
  /** An extra CA to trust besides the system roots (the dev CA in dev mode). */
  extraCaPem?: string | undefined;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export class OutboundFetchError extends Error {
  override name = 'OutboundFetchError';
}

// Two lists: one BlockList would match every IPv4 address against the IPv4-mapped IPv6 range.
const forbiddenV4 = new BlockList();
const forbiddenV6 = new BlockList();
const FORBIDDEN_IPV4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
// IPv4-mapped and NAT64 addresses are refused whole: they would reach IPv4 space around the list above.
const FORBIDDEN_IPV6: [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
];
for (const [network, prefix] of FORBIDDEN_IPV4) forbiddenV4.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of FORBIDDEN_IPV6) forbiddenV6.addSubnet(network, prefix, 'ipv6');

/** Loopback, private, link-local (cloud metadata), shared, documentation, multicast and reserved ranges. */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return family === 4 ? forbiddenV4.check(address, 'ipv4') : forbiddenV6.check(address, 'ipv6');
}

type LookupCallback = (error: Error | null, address: string | dns.LookupAddress[], family?: number) => void;

function guardedLookup(allowed: Set<string>) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const bad = allowed.has(hostname.toLowerCase()) ? undefined : addresses.find((entry) => isForbiddenAddress(entry.address));
      if (bad) return callback(new OutboundFetchError(`${hostname} resolves to a forbidden address (${bad.address})`), []);
      if (addresses.length === 0) return callback(new OutboundFetchError(`${hostname} does not resolve`), []);
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface OutboundFetch {
  /** One request through the guard; throws OutboundFetchError for anything the guard refuses. */
  request(url: string, init?: OutboundRequest): Promise<OutboundResponse>;
  /** GET a JSON document; anything but 200 with a JSON body is an error. */
  json(url: string): Promise<unknown>;
  /** The same guard shaped as `fetch`, for oidc-provider's `fetch` option. */
  asFetch(url: string | URL | Request, options?: RequestInit): Promise<Response>;
}

/** Checks the URL before any connection: scheme, credentials, and IP literals (which skip DNS). */
function targetOf(raw: string, allowed: Set<string>): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundFetchError(`not a URL: ${raw}`);
  }
  if (url.protocol !== 'https:') throw new OutboundFetchError(`only https URLs are fetched: ${url.origin}`);
  if (url.username || url.password) throw new OutboundFetchError('URLs with credentials are not fetched');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && !allowed.has(host.toLowerCase()) && isForbiddenAddress(host)) {
    throw new OutboundFetchError(`${host} is a forbidden address`);
  }
  return url;
}

export function createOutboundFetch(settings: OutboundSettings): OutboundFetch {
  const allowed = new Set(settings.allowedHosts.map((host) => host.toLowerCase()));
  const lookup = guardedLookup(allowed);
  const ca = settings.extraCaPem ? [...rootCertificates, settings.extraCaPem] : undefined;

  function request(raw: string, init: OutboundRequest = {}): Promise<OutboundResponse> {
    const url = targetOf(raw, allowed);
    return new Promise((resolve, reject) => {
      const fail = (error: Error) => {
        clearTimeout(total);
        req.destroy();
        reject(error instanceof OutboundFetchError ? error : new OutboundFetchError(`${url.origin}: ${error.message}`, { cause: error }));
      };
      const req = https.request(url, {
        method: init.method ?? 'GET',
        headers: { 'user-agent': 'Assent', ...init.headers },
        lookup: lookup as unknown as https.RequestOptions['lookup'],
        agent: false,
        ...(ca && { ca }),
      });
      const total = setTimeout(
        () => fail(new OutboundFetchError(`${url.origin}: no complete response within ${settings.totalTimeoutMs} ms`)),
        settings.totalTimeoutMs,
      );
      init.signal?.addEventListener('abort', () => fail(new OutboundFetchError(`${url.origin}: aborted`)), { once: true });
      req.on('socket', (socket) => {
        const connect = setTimeout(
          () => fail(new OutboundFetchError(`${url.origin}: no connection within ${settings.connectTimeoutMs} ms`)),
          settings.connectTimeoutMs,
        );
        socket.once('secureConnect', () => clearTimeout(connect));
        socket.once('close', () => clearTimeout(connect));
      });
      req.on('error', fail);
      req.on('response', (response) => {
        const status = response.statusCode ?? 0;
        if (status >= 300 && status < 400) return fail(new OutboundFetchError(`${url.origin}: redirects are not followed (${status})`));
        if (Number(response.headers['content-length'] ?? 0) > settings.maxResponseBytes) {
          return fail(new OutboundFetchError(`${url.origin}: response larger than ${settings.maxResponseBytes} bytes`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > settings.maxResponseBytes)
            return fail(new OutboundFetchError(`${url.origin}: response larger than ${settings.maxResponseBytes} bytes`));
          chunks.push(chunk);
        });
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(total);
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(response.headers)) {
            if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve({ status, headers, body: Buffer.concat(chunks) });
        });
      });
      req.end(init.body);
    });
  }

  async function json(url: string): Promise<unknown> {
    const response = await request(url, { headers: { accept: 'application/json' } });
    if (response.status !== 200) throw new OutboundFetchError(`${new URL(url).origin}: expected 200, got ${response.status}`);
    try {
      return JSON.parse(response.body.toString('utf8'));
    } catch (error) {
      throw new OutboundFetchError(`${new URL(url).origin}: the response is not JSON`, { cause: error });
    }
  }

  async function asFetch(url: string | URL | Request, options: RequestInit = {}): Promise<Response> {
    const response = await request(url instanceof Request ? url.url : String(url), {
      method: options.method ?? 'GET',
      headers: Object.fromEntries(new Headers(options.headers)),
      ...(typeof options.body === 'string' || options.body instanceof URLSearchParams ? { body: String(options.body) } : {}),
      ...(options.signal && { signal: options.signal }),
    });
    const empty = response.status === 204 || response.status === 205;
    return new Response(empty ? null : new Uint8Array(response.body), { status: response.status, headers: response.headers });
  }

  return { request, json, asFetch };
}

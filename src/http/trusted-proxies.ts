import { BlockList, isIP, isIPv6 } from 'node:net';
import type { Socket } from 'node:net';

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
export function normalizeAddress(address: string | undefined): string | undefined {
  return address?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
}

/**
 * TRUSTED_PROXIES as a predicate: each entry an address or a CIDR block (`10.0.0.0/8`, `fd00::/8`). The
 * one place that decides whether a peer may speak for someone else (forwarded addresses, scheme and
 * host, the forwarded client certificate).
 */
export function trustedProxyCheck(entries: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const [written = '', prefix] = entry.trim().split('/');
    const address = normalizeAddress(written)!;
    const bits = prefix === undefined ? undefined : Number(prefix);
    const maxBits = isIPv6(address) ? 128 : 32;
    if (isIP(address) === 0 || (bits !== undefined && !(Number.isInteger(bits) && bits >= 0 && bits <= maxBits))) {
      throw new Error(`TRUSTED_PROXIES: '${entry}' is not an IP address or CIDR block`);
    }
    const family = maxBits === 128 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, bits, family);
  }
  return (address) => {
    const normalized = normalizeAddress(address);
    // Not an address at all (a forwarded hop may say anything): never a trusted proxy.
    const family = normalized === undefined ? 0 : isIP(normalized);
    if (family === 0) return false;
    return list.check(normalized!, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/**
 * The server's own connections to itself (the dashboard's loopback client behind a TLS-terminating
 * proxy, which marks its requests `x-forwarded-proto: https` as the proxy would). Recognised by the
 * connection's own address and port, which no other process can hold at the same time, so no secret is
 * needed and loopback as such is not trusted.
 */
export class OwnConnections {
  readonly #open = new Set<string>();

  add(socket: Socket): void {
    const key = `${normalizeAddress(socket.localAddress)}:${socket.localPort}`;
    this.#open.add(key);
    socket.once('close', () => this.#open.delete(key));
  }

  isOwn(socket: Socket): boolean {
    return this.#open.has(`${normalizeAddress(socket.remoteAddress)}:${socket.remotePort}`);
  }
}

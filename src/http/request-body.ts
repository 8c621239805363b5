import type { IncomingMessage } from 'node:http';

/**
 * The request body, read from the socket once per request and shared by whoever needs it: the edge
 * check (hostile-input.ts), Assent's routers and, through `req.body`, oidc-provider (which takes an
 * already-read body instead of the stream). Each reader still applies its own, smaller limit.
 */

/** The largest any endpoint takes (the consent API's 64 KiB); oidc-provider's own routes get no more than that either. */
export const MAX_BODY_BYTES = 64 * 1024;

export class BodyTooLarge extends Error {
  override name = 'BodyTooLarge';
  readonly status = 413;
  readonly expose = true;
  constructor() {
    super('the request body is too large');
  }
}

const bodies = new WeakMap<IncomingMessage, Promise<Buffer>>();

export function readRequestBody(req: IncomingMessage): Promise<Buffer> {
  let body = bodies.get(req);
  if (!body) {
    body = readAll(req);
    bodies.set(req, body);
  }
  return body;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

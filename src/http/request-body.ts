import type { IncomingMessage, ServerResponse } from 'node:http';

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

export function readRequestBody({ req, res }: { req: IncomingMessage; res: ServerResponse }): Promise<Buffer> {
  let body = bodies.get(req);
  if (!body) {
    body = readAll(req, res);
    bodies.set(req, body);
  }
  return body;
}

function readAll(req: IncomingMessage, res: ServerResponse): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      // Destroying the request would take the socket with it, and the refusal (an error page reads the
      // socket for its cookies) could not be sent. The rest is read and dropped instead, and the
      // connection closes after the refusal rather than waiting, kept alive, for a next request.
      req.off('data', onData);
      req.resume();
      res.setHeader('Connection', 'close');
      reject(new BodyTooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('close', () => reject(new Error('the request was closed before its body ended')));
  });
}

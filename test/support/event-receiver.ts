import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, decodeJwt, type JWTPayload, jwtVerify } from 'jose';
import { fetch } from 'undici';
import { issueCertificate, type PemPair } from '../../src/http/dev-pki.ts';
import { SET_TYP } from '../../src/events/security-event-token.ts';
import { type TestAssent, tlsAgent } from './assent.ts';

/** One SET as a TPP's endpoint received it. */
export interface ReceivedEvent {
  set: string;
  claims: JWTPayload & { events: Record<string, Record<string, unknown>>; txn: string; toe: number; consent_seq: number };
  contentType: string | undefined;
  receivedAt: number;
}

/** How the receiver answers a SET: a status, or a function of the SET (which may wait, to play a slow receiver). */
export type Answer = number | ((event: ReceivedEvent) => number | Promise<number>);

/**
 * A TPP's event-notification endpoint: a real HTTPS server on localhost with a dev-CA certificate,
 * recording every POSTed SET and answering as `answer` says (202 by default). It can be stopped and
 * started again on the same port, to play a receiver that is down.
 */
export class EventReceiver {
  /** The SETs it accepted (answered 202), in arrival order. */
  readonly received: ReceivedEvent[] = [];
  /** Every SET POSTed to it, accepted or not: each is one delivery attempt. */
  readonly attempts: ReceivedEvent[] = [];
  answer: Answer = 202;
  #server: https.Server | undefined;
  #port = 0;
  readonly #pair: PemPair;

  private constructor(pair: PemPair) {
    this.#pair = pair;
  }

  static async start(assent: TestAssent): Promise<EventReceiver> {
    const pair = await issueCertificate(assent.ca, { subject: 'CN=localhost', dnsNames: ['localhost'], usage: 'server' });
    const receiver = new EventReceiver(pair);
    await receiver.resume();
    return receiver;
  }

  get url(): string {
    return `https://localhost:${this.#port}/open-banking/v3.1/event-notifications`;
  }

  async resume(): Promise<void> {
    const server = https.createServer({ cert: this.#pair.certPem, key: this.#pair.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const set = Buffer.concat(chunks).toString('utf8');
        const event: ReceivedEvent = {
          set,
          claims: decodeJwt(set) as ReceivedEvent['claims'],
          contentType: req.headers['content-type'],
          receivedAt: Date.now(),
        };
        this.attempts.push(event);
        const status = typeof this.answer === 'number' ? this.answer : await this.answer(event);
        if (status === 202) this.received.push(event);
        res.writeHead(status, { 'x-fapi-interaction-id': String(req.headers['x-fapi-interaction-id'] ?? '') }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.#port, '127.0.0.1', resolve));
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Waits until `count` events (optionally of one consent) have arrived. */
  async waitFor(count: number, consentId?: string, timeoutMs = 15_000): Promise<ReceivedEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.received.filter((event) => consentId === undefined || subjectId(event) === consentId);
      if (matching.length >= count) return matching;
      if (Date.now() > deadline) throw new Error(`expected ${count} events${consentId ? ` of ${consentId}` : ''}, got ${matching.length}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** The consent id a SET is about (UK OB subject rid). */
export function subjectId(event: Pick<ReceivedEvent, 'claims'>): string {
  const body = Object.values(event.claims.events)[0] as { subject: Record<string, unknown> };
  return String(body.subject['http://openbanking.org.uk/rid']);
}

/** Verifies a SET against Assent's published JWKS (fetched from /jwks as any TPP would). */
export async function verifyWithPublishedJwks(assent: TestAssent, set: string, audience: string) {
  const response = await fetch(new URL('/jwks', assent.issuer), { dispatcher: tlsAgent(assent.ca.certPem) });
  const jwks = createLocalJWKSet((await response.json()) as Parameters<typeof createLocalJWKSet>[0]);
  return jwtVerify(set, jwks, { issuer: assent.issuer, audience, typ: SET_TYP, algorithms: ['PS256'] });
}

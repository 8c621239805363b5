import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { OutboundFetch } from '../http/outbound-fetch.ts';
import type { SecurityEventFields } from './security-events.ts';

/**
 * Security events also delivered to the bank's SIEM or SOAR (SECURITY_EVENTS_URL): each one POSTed on
 * its own as a JWS signed with Assent's current signing key (verifiable with its published JWKS),
 * through the outbound guard, retried with exponential back-off. Best effort and in memory: the log
 * line written for every event stays the record of truth; an event given up on is logged.
 */

export const SECURITY_EVENT_MEDIA_TYPE = 'application/jose';
/** The JWS `typ` of a forwarded security event (its payload is Assent's own JSON, not a SET). */
export const SECURITY_EVENT_TYP = 'assent-security-event+jwt';

export interface SecurityEventDeliverySettings {
  url: string;
  /** Attempts per event, the first included. */
  attempts: number;
  /** Wait before the second attempt; doubled before each next one. */
  firstRetryMs: number;
}

export interface SecurityEventDelivery {
  deliver(event: SecurityEventFields): void;
  /** Waits for every delivery under way (shutdown, tests). */
  settled(): Promise<void>;
}

export function createSecurityEventDelivery(deps: {
  settings: SecurityEventDeliverySettings;
  outbound: OutboundFetch;
  issuer: string;
  /** Signs the claims with the key the provider signs with now. */
  sign: (claims: Record<string, unknown>) => Promise<string>;
  logger: Logger;
}): SecurityEventDelivery {
  const { settings, logger } = deps;
  const pending = new Set<Promise<void>>();

  async function attempt(body: string): Promise<string | undefined> {
    try {
      const response = await deps.outbound.request(settings.url, {
        method: 'POST',
        headers: { 'content-type': SECURITY_EVENT_MEDIA_TYPE },
        body,
      });
      return response.status >= 200 && response.status < 300 ? undefined : `the receiver answered ${response.status}`;
    } catch (error) {
      return (error as Error).message;
    }
  }

  async function send(event: SecurityEventFields): Promise<void> {
    const { securityEvent, ...fields } = event;
    const jti = randomUUID();
    const body = await deps.sign({ iss: deps.issuer, iat: Math.floor(Date.now() / 1000), jti, event: securityEvent, ...fields });
    let failure: string | undefined;
    for (let n = 1; n <= settings.attempts; n++) {
      failure = await attempt(body);
      if (failure === undefined) return;
      if (n < settings.attempts) await new Promise((resolve) => setTimeout(resolve, settings.firstRetryMs * 2 ** (n - 1)).unref());
    }
    logger.error({ securityEvent, jti, attempts: settings.attempts, failure }, 'security event not delivered to SECURITY_EVENTS_URL');
  }

  return {
    deliver(event) {
      const work = send(event).catch((error: unknown) =>
        logger.error({ err: error, securityEvent: event.securityEvent }, 'security event not delivered to SECURITY_EVENTS_URL'),
      );
      pending.add(work);
      void work.finally(() => pending.delete(work));
    },
    async settled() {
      await Promise.all(pending);
    },
  };
}

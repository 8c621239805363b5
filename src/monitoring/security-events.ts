import { createHmac } from 'node:crypto';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import { type AuditEvent, observeAuditTrail } from '../audit/audit-trail.ts';
import type { Metrics } from '../ops/metrics.ts';

/**
 * Security events as structured log lines (admin actions are logged by the admin API itself) a SIEM can take as they are (`"securityEvent": name`, with
 * clientId, consentId and a pseudonymous customer id), and the counters behind the dashboards.
 * Customers are never named in logs: `customerRef` is an HMAC of their id under a key derived from the
 * server's cookie key, so one customer's events correlate across instances without revealing who.
 */

/** Audit events that are also security events. */
const FROM_AUDIT: Record<string, string> = {
  'customer.locked_out': 'customer.locked_out',
  'consent.revoked': 'consent.revoked',
  'tpp.suspended': 'tpp.suspended',
  // Incident response (docs/incident-response.md): the bank's automation hears every action.
  'tpp.credential_blocked': 'tpp.credential_blocked',
  'tpp.throttled': 'tpp.throttled',
  'customer.disabled': 'customer.disabled',
  'signing_key.withdrawn': 'signing_key.withdrawn',
  'tokens.revoked_in_window': 'tokens.revoked_in_window',
};

/** One security event as logged and as forwarded: its name and its (pseudonymous) fields. */
export type SecurityEventFields = { securityEvent: string } & Record<string, unknown>;

export type SignInFactor = 'pwd' | 'otp';

export interface SecurityEvents {
  signIn(factor: SignInFactor, outcome: string): void;
  /** A client the adapter refused (suspended or deleted TPP) tried to act. */
  refusedClient(clientId: string): void;
  outboundRefused(): void;
  /** Logs the provider's own security events: an authorization code or refresh token presented again. */
  watchProvider(provider: Provider): void;
  /** Also hands every security event to `forward` (signed delivery to the bank's SIEM). */
  forwardTo(forward: (event: SecurityEventFields) => void): void;
  /** Stops observing the audit trail. */
  close(): void;
}

function pseudonymiser(cookieKey: string) {
  const key = createHmac('sha256', cookieKey).update('assent log pseudonyms').digest();
  return (customerId: string) => createHmac('sha256', key).update(customerId).digest('hex').slice(0, 16);
}

function fieldsOf(event: AuditEvent, customerRef: (id: string) => string) {
  const clientId = event.subjectType === 'tpp' ? event.subjectId : event.actor.kind === 'tpp' ? event.actor.id : undefined;
  const customerId = event.subjectType === 'customer' ? event.subjectId : event.actor.kind === 'customer' ? event.actor.id : undefined;
  return {
    ...(clientId && { clientId }),
    ...(event.subjectType === 'consent' && { consentId: event.subjectId }),
    ...(customerId && { customerRef: customerRef(customerId) }),
    actor: event.actor.kind === 'customer' ? { kind: 'customer' } : event.actor,
  };
}

export function createSecurityEvents(deps: { logger: Logger; metrics: Metrics; cookieKey: string }): SecurityEvents {
  const { logger, metrics } = deps;
  const customerRef = pseudonymiser(deps.cookieKey);
  let forward: ((event: SecurityEventFields) => void) | undefined;
  const emit = (event: SecurityEventFields) => {
    logger.warn(event, 'security event');
    forward?.(event);
  };
  const stop = observeAuditTrail((event) => {
    if (event.subjectType === 'consent' && event.event.startsWith('consent.'))
      metrics.consentTransitions.inc({ transition: event.event.slice('consent.'.length) });
    if (event.event === 'customer.locked_out') metrics.lockouts.inc({ factor: String(event.details?.factor ?? 'unknown') });
    const name = FROM_AUDIT[event.event];
    if (!name) return;
    emit({
      securityEvent: name,
      audited: event.event,
      ...fieldsOf(event, customerRef),
      ...(event.details?.reason !== undefined && { reason: event.details.reason }),
    });
  });
  return {
    signIn(factor, outcome) {
      metrics.signIns.inc({ factor, outcome });
      if (factor === 'otp' && (outcome === 'rejected' || outcome === 'reused')) metrics.otpFailures.inc({ reason: outcome });
    },
    refusedClient(clientId) {
      metrics.refusedClients.inc();
      emit({ securityEvent: 'tpp.call_refused', clientId });
    },
    outboundRefused() {
      metrics.outboundRefusals.inc();
    },
    watchProvider(provider) {
      provider.on('grant.error', (ctx, error) => {
        // oidc-provider revokes the whole grant when a code or refresh token is redeemed twice (RFC 9700).
        const reuse = /^(authorization code|refresh token) already (?:consumed|used)$/.exec(
          (error as { error_detail?: string }).error_detail ?? '',
        );
        if (!reuse) return;
        const kind = reuse[1] === 'authorization code' ? 'code' : 'refresh_token';
        metrics.reuses.inc({ kind });
        emit({ securityEvent: `${kind}.reused`, clientId: ctx.oidc?.client?.clientId });
      });
    },
    forwardTo(forwarder) {
      forward = forwarder;
    },
    close: stop,
  };
}

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolStats } from '../db/connect.ts';

/** Every Prometheus series Assent exposes, in one registry per process (tests start several in one process). */
export interface Metrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'standard' | 'status'>;
  requestSeconds: Histogram<'method' | 'route' | 'standard'>;
  tokensIssued: Counter<'grant_type'>;
  loginFailures: Counter<'reason'>;
  rateLimited: Counter<'policy'>;
  signIns: Counter<'factor' | 'outcome'>;
  otpFailures: Counter<'reason'>;
  lockouts: Counter<'factor'>;
  consentTransitions: Counter<'transition'>;
  refusedClients: Counter;
  outboundRefusals: Counter;
  introspections: Counter<'result'>;
  reuses: Counter<'kind'>;
  /** Filled from the database at each scrape. */
  consents: Gauge<'type' | 'status'>;
}

export interface MetricSources {
  poolStats: () => PoolStats | undefined;
  /** Read at each scrape. */
  consentCounts: () => Promise<{ type: string; status: string; count: number }[]>;
}

export function createMetrics({ poolStats, consentCounts }: MetricSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'assent_' });
  const pool = (name: string, help: string, pick: (stats: PoolStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const stats = poolStats();
        if (stats) this.set(pick(stats));
      },
    });
  pool('assent_db_pool_connections', 'Connections held by the database pool', (stats) => stats.total);
  pool('assent_db_pool_idle_connections', 'Idle connections in the database pool', (stats) => stats.idle);
  pool('assent_db_pool_waiting_requests', 'Queries waiting for a free pool connection', (stats) => stats.waiting);
  const consents = new Gauge({
    name: 'assent_consents',
    help: 'Consents by type and stored status (every consent ever created, in the status it is in now)',
    labelNames: ['type', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { type, status, count } of await consentCounts()) this.set({ type, status }, count);
    },
  });
  const counter = <Label extends string>(name: string, help: string, labelNames: Label[] = []) =>
    new Counter<Label>({ name, help, labelNames, registers: [registry] });
  return {
    consents,
    signIns: counter('assent_sign_ins_total', 'Customer authentication steps by factor (pwd, otp) and outcome', ['factor', 'outcome']),
    otpFailures: counter('assent_otp_failures_total', 'One-time codes refused: wrong (rejected) or already used (reused)', ['reason']),
    lockouts: counter('assent_lockouts_total', 'Sign-in lockouts started, by the factor whose failure started them', ['factor']),
    consentTransitions: counter(
      'assent_consent_transitions_total',
      'Consent events written: created, authorised, rejected, revoked, expired, consumed, ...',
      ['transition'],
    ),
    refusedClients: counter('assent_refused_client_calls_total', 'Calls by a suspended or deleted TPP, refused'),
    reuses: counter(
      'assent_reuse_detected_total',
      'Authorization codes (code) or refresh tokens (refresh_token) presented again: the grant was revoked',
      ['kind'],
    ),
    introspections: counter(
      'assent_introspections_total',
      'Token introspections by result: active, inactive, signed (JWT response), refused',
      ['result'],
    ),
    outboundRefusals: counter(
      'assent_outbound_refusals_total',
      'Outbound fetches (directory JWKS, client JWKS) the SSRF guard or its limits refused',
    ),
    registry,
    requests: new Counter({
      name: 'assent_http_requests_total',
      help: 'HTTP requests by route, the standard it speaks and status',
      labelNames: ['method', 'route', 'standard', 'status'],
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: 'assent_http_request_duration_seconds',
      help: 'HTTP request latency by route and the standard it speaks',
      labelNames: ['method', 'route', 'standard'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    tokensIssued: new Counter({
      name: 'assent_tokens_issued_total',
      help: 'Successful token endpoint grants by grant type',
      labelNames: ['grant_type'],
      registers: [registry],
    }),
    loginFailures: new Counter({
      name: 'assent_login_failures_total',
      help: 'Customer sign-ins refused (invalid_credentials) or throttled (rate_limited)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'assent_rate_limited_total',
      help: 'Requests answered 429 by rate-limit policy',
      labelNames: ['policy'],
      registers: [registry],
    }),
  };
}

import autocannon from 'autocannon';
import type { PemPair } from '../src/http/dev-pki.ts';

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  total: number;
  /** Each refused answer's status with the first body seen for it, so a row's errors say what they were. */
  refusals?: Record<number, { count: number; body: string }>;
  /** Server CPU time per completed request (or flow), machine-load-independent where throughput is not. */
  serverCpuMsPerRequest: number;
  /** The database cluster's CPU time per completed request (or flow), when the bench runs the cluster. */
  databaseCpuMsPerRequest?: number;
  /** The load generator's own CPU time (this process) per completed request (or flow). */
  generatorCpuMsPerRequest: number;
}

/** The latency at `share` (0.5 for p50) of latencies sorted ascending, rounded to whole ms; 0 when there are none. */
export const percentile = (sorted: number[], share: number) =>
  Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))] ?? 0);

/** CPU counters read before and after a measurement, each in ms so far. */
export interface CpuCounters {
  /** The server process's CPU time. */
  serverCpuMs: () => number;
  /** The database cluster's CPU time, when the bench runs the cluster. */
  databaseCpuMs?: () => number;
}

/** Starts the CPU clocks of a measurement; the function returned gives each one's time per completed operation. */
export function cpuClocks(counters: CpuCounters) {
  const server = counters.serverCpuMs();
  const database = counters.databaseCpuMs?.();
  const generator = process.cpuUsage();
  return (completed: number) => {
    const per = (ms: number) => ms / Math.max(completed, 1);
    const own = process.cpuUsage(generator);
    return {
      serverCpuMsPerRequest: per(counters.serverCpuMs() - server),
      databaseCpuMsPerRequest: database === undefined ? undefined : per(counters.databaseCpuMs!() - database),
      generatorCpuMsPerRequest: per((own.user + own.system) / 1000),
    };
  };
}

export interface LoadSpec extends CpuCounters {
  /** Several URLs spread the connections over several server processes. */
  url: string | string[];
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  certificate: PemPair;
  /** Form body of the next request; called once per request. */
  body: () => string;
  /** Called after the warm-up, right before the measured run (to take counters at its start). */
  beforeMeasuring?: () => Promise<void>;
}

type Refusals = NonNullable<LoadResult['refusals']>;

function cannon(spec: LoadSpec, durationSeconds: number, refusals: Refusals = {}) {
  return autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: durationSeconds,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    tlsOptions: { cert: spec.certificate.certPem, key: spec.certificate.keyPem },
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: spec.body() }),
        onResponse: (status: number, body: string) => {
          if (status < 300) return;
          const seen = (refusals[status] ??= { count: 0, body: body.slice(0, 300) });
          seen.count += 1;
        },
      },
    ],
  } as autocannon.Options);
}

/**
 * Keep-alive HTTPS load with a client certificate on every connection. A short unmeasured warm-up
 * first, so TLS handshakes and JIT compilation stay out of the numbers.
 */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  if (spec.warmupSeconds > 0) await cannon(spec, spec.warmupSeconds);
  await spec.beforeMeasuring?.();
  const cpu = cpuClocks(spec);
  const refusals: Refusals = {};
  const result = await cannon(spec, spec.durationSeconds, refusals);
  return {
    refusals,
    ...cpu(result['2xx']),
    // Successful requests only: a refused request is not throughput.
    requestsPerSecond: result['2xx'] / spec.durationSeconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    total: result.requests.total,
  };
}

import autocannon from 'autocannon';
import type { PemPair } from '../src/http/dev-pki.ts';

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  total: number;
  /** Server CPU time per completed request (or flow), machine-load-independent where throughput is not. */
  serverCpuMsPerRequest: number;
}

export interface LoadSpec {
  /** Several URLs spread the connections over several server processes. */
  url: string | string[];
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  certificate: PemPair;
  /** The server process's CPU time so far, in ms. */
  serverCpuMs: () => number;
  /** Form body of the next request; called once per request. */
  body: () => string;
  /** Called after the warm-up, right before the measured run (to take counters at its start). */
  beforeMeasuring?: () => Promise<void>;
}

function cannon(spec: LoadSpec, durationSeconds: number) {
  return autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: durationSeconds,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    tlsOptions: { cert: spec.certificate.certPem, key: spec.certificate.keyPem },
    requests: [{ setupRequest: (request) => ({ ...request, body: spec.body() }) }],
  } as autocannon.Options);
}

/**
 * Keep-alive HTTPS load with a client certificate on every connection. A short unmeasured warm-up
 * first, so TLS handshakes and JIT compilation stay out of the numbers.
 */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  if (spec.warmupSeconds > 0) await cannon(spec, spec.warmupSeconds);
  await spec.beforeMeasuring?.();
  const cpuBefore = spec.serverCpuMs();
  const result = await cannon(spec, spec.durationSeconds);
  const cpuMs = spec.serverCpuMs() - cpuBefore;
  return {
    serverCpuMsPerRequest: cpuMs / Math.max(result['2xx'], 1),
    // Successful requests only: a refused request is not throughput.
    requestsPerSecond: result['2xx'] / spec.durationSeconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    total: result.requests.total,
  };
}

import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { cpuClocks, type LoadResult, type LoadSpec, percentile } from './load.ts';

/**
 * Load without keep-alive, as Keycloak's published sizing figures are measured ("each client runs only a
 * single request"): every request opens a TCP connection of its own, makes a full TLS handshake with the
 * client certificate (a fresh agent holds no session to resume) and closes after the answer. autocannon's
 * `reconnectRate` would reconnect too, but it drops the answer that triggers the reconnect from its counts.
 */

type Refusals = NonNullable<LoadResult['refusals']>;

interface Tally {
  latencies: number[];
  ok: number;
  errors: number;
  /** Handshakes the server let the client resume: must stay 0, or the scenario would not be what it says. */
  resumed: number;
  refusals: Refusals;
}

function post(url: URL, spec: LoadSpec, tally: Tally): Promise<void> {
  const body = spec.body();
  const started = performance.now();
  return new Promise((resolve) => {
    const request = https.request(
      url,
      {
        method: 'POST',
        agent: false,
        cert: spec.certificate.certPem,
        key: spec.certificate.keyPem,
        rejectUnauthorized: false,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), connection: 'close' },
      },
      (response) => {
        if ((response.socket as TLSSocket).isSessionReused()) tally.resumed += 1;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          tally.latencies.push(performance.now() - started);
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) tally.ok += 1;
          else {
            tally.errors += 1;
            const seen = (tally.refusals[status] ??= { count: 0, body: Buffer.concat(chunks).toString().slice(0, 300) });
            seen.count += 1;
          }
          resolve();
        });
      },
    );
    request.on('error', () => {
      tally.errors += 1;
      resolve();
    });
    request.end(body);
  });
}

/** `connections` loops, each posting one request per new connection until `seconds` have passed. */
async function fire(spec: LoadSpec, seconds: number): Promise<Tally> {
  const url = new URL(Array.isArray(spec.url) ? spec.url[0]! : spec.url);
  const tally: Tally = { latencies: [], ok: 0, errors: 0, resumed: 0, refusals: {} };
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: spec.connections }, async () => {
      while (performance.now() < until) await post(url, spec, tally);
    }),
  );
  return tally;
}

/** The same measurement as runLoad (warm-up, CPU clocks, 2xx throughput, p50 and p99), one connection per request. */
export async function runFreshConnectionLoad(spec: LoadSpec): Promise<LoadResult> {
  if (spec.warmupSeconds > 0) await fire(spec, spec.warmupSeconds);
  await spec.beforeMeasuring?.();
  const cpu = cpuClocks(spec);
  const started = performance.now();
  const tally = await fire(spec, spec.durationSeconds);
  // Requests in flight at the deadline finish before the loops return: the rate is over the time they took.
  const elapsedSeconds = (performance.now() - started) / 1000;
  const measured = cpu(tally.ok);
  if (tally.resumed > 0) throw new Error(`${tally.resumed} TLS sessions were resumed in a scenario of full handshakes`);
  const sorted = tally.latencies.toSorted((a, b) => a - b);
  return {
    refusals: tally.refusals,
    ...measured,
    requestsPerSecond: tally.ok / elapsedSeconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    errors: tally.errors,
    total: tally.ok + tally.errors,
  };
}

import { fetch, type Agent } from 'undici';
import { CustomerAgent } from '../test/support/customer-agent.ts';
import type { TestCustomer } from '../test/support/customers.ts';
import { type BenchClient, REDIRECT_URI, signedRequestObject } from './fixtures.ts';
import { cpuClocks, type CpuCounters, type LoadResult, percentile } from './load.ts';

export interface FlowSpec extends CpuCounters {
  issuer: string;
  client: BenchClient;
  /** Presents the client's certificate (tls_client_auth and certificate-bound tokens). */
  tppAgent: Agent;
  /** Trusts the server; the customer's browser. */
  browserAgent: Agent;
  /** Enrolled customers, taken in turn: each TOTP code is accepted once, so one customer manages about three flows per 30 s. */
  customers: TestCustomer[];
  concurrency: number;
  durationSeconds: number;
  /** Flows run first and not measured, so that what is measured is the server's steady state, its code compiled. */
  warmupSeconds: number;
  /** Called between the warm-up and the measured flows (the caller's own counters start there). */
  beforeMeasuring?: () => Promise<void>;
}

const form = (values: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(values).toString(),
});

let nextCustomer = 0;

/** One complete FAPI flow: signed request object -> PAR -> sign-in -> consent -> code -> token. */
async function completeFlow(spec: FlowSpec) {
  const { issuer, client } = spec;
  const { request, codeVerifier } = await signedRequestObject(client, issuer);
  const par = await fetch(`${issuer}/request`, { ...form({ client_id: client.clientId, request }), dispatcher: spec.tppAgent });
  if (par.status !== 201) throw new Error(`PAR answered ${par.status}: ${await par.text()}`);
  const { request_uri } = (await par.json()) as { request_uri: string };
  const authorize = new URL(`${issuer}/auth`);
  authorize.search = new URLSearchParams({ client_id: client.clientId, request_uri }).toString();
  const customer = spec.customers[nextCustomer++ % spec.customers.length]!;
  const callback = await new CustomerAgent(spec.browserAgent, issuer).authorize(authorize, customer);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${callback}`);
  const token = await fetch(`${issuer}/token`, {
    ...form({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: codeVerifier,
      client_id: client.clientId,
    }),
    dispatcher: spec.tppAgent,
  });
  if (token.status !== 200) throw new Error(`token answered ${token.status}: ${await token.text()}`);
  await token.body?.cancel();
}

/** `concurrency` customers completing flows back to back for the seconds given. */
async function flowsFor(spec: FlowSpec, seconds: number) {
  const deadline = Date.now() + seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      while (Date.now() < deadline) {
        const begin = performance.now();
        try {
          await completeFlow(spec);
          latencies.push(performance.now() - begin);
        } catch (error) {
          errors += 1;
          firstError ??= String(error);
        }
      }
    }),
  );
  return { latencies, errors, firstError };
}

/**
 * Complete flows for the warm-up (a fresh process compiles its code in its first seconds: the larger the
 * code, the longer), then for the measured duration. A warm-up flow that fails is reported as the first error.
 */
export async function runFlows(spec: FlowSpec): Promise<LoadResult & { firstError?: string }> {
  const warmup = spec.warmupSeconds > 0 ? await flowsFor(spec, spec.warmupSeconds) : undefined;
  await spec.beforeMeasuring?.();
  const cpu = cpuClocks(spec);
  const started = Date.now();
  const { latencies, errors, firstError } = await flowsFor(spec, spec.durationSeconds);
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requestsPerSecond: latencies.length / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    errors,
    total: latencies.length + errors,
    ...cpu(latencies.length),
    firstError: warmup?.firstError ?? firstError,
  };
}

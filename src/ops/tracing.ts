import type { ClientRequestArgs, IncomingMessage } from 'node:http';
import { register } from 'node:module';
import { context } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KoaInstrumentation, KoaLayerType } from '@opentelemetry/instrumentation-koa';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { Middleware } from 'koa';
import { routeTemplate } from '../protocol/route-match.ts';
import { ROUTES } from '../protocol/routes.ts';

/**
 * OpenTelemetry tracing: a span per request (node:http's server span, named by the Koa route), per SQL
 * statement (pg) and per outbound request (node:https, which carries `traceparent` on: event pushes, CIBA
 * pings, JWKS fetches). W3C trace context from a caller is continued. Exporter, endpoint, protocol,
 * sampler and resource come from the standard OTEL_* variables, which the SDK reads itself.
 *
 * main.ts imports this module only when config.tracing is set, and imports the server only after
 * startTracing: an ESM module is instrumented only if the hook is in place before it loads. With tracing
 * off none of OpenTelemetry is loaded.
 *
 * Nothing secret reaches a span. Headers are not recorded (no `headersToSpanAttributes`), and so neither are
 * cookies, Authorization, DPoP proofs nor client certificates; bodies never are (form posts carry passwords,
 * one-time codes, client assertions, codes and refresh tokens). Query strings are kept as their parameter
 * names only: every value is replaced, whatever its name (code, state, request_uri, login_hint_token...),
 * rather than the instrumentation's own list of names it knows to be secret; paths are recorded as their
 * route's template. The consent and interaction ids are recorded on purpose: they are what an operator
 * searches by, and neither grants anything. SQL is recorded as the
 * parameterised text, never its values (`enhancedDatabaseReporting` stays off).
 */

export interface TracingSettings {
  serviceName: string;
}

export interface Tracing {
  /** Puts the FAPI interaction id and the consent id on the request's span; mounted after securityHeaders. */
  requestAttributes: Middleware;
  /** Exports what is left; part of shutdown. */
  shutdown(): Promise<void>;
}

export const REDACTED = 'REDACTED';
/** Span attribute names of Assent's own. */
export const SPAN_ATTRIBUTES = { interactionId: 'fapi.interaction_id', consentId: 'assent.consent_id' } as const;

/** `a=1&b=2` -> `a=REDACTED&b=REDACTED`: which parameters came is worth seeing, their values are not. */
export function redactQuery(query: string): string {
  return query
    .split('&')
    .filter(Boolean)
    .map((pair) => `${pair.split('=')[0]}=${REDACTED}`)
    .join('&');
}

function redactedUrl(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? url : `${url.slice(0, at)}?${redactQuery(url.slice(at + 1))}`;
}

/**
 * The attributes the HTTP instrumentation derives from the URL, replaced before it sets them: the path as its
 * route's template, since paths carry handles (`/interaction/:uid` is the interaction cookie's value), and the query
 * as its parameter names.
 */
function incomingAttributes(request: IncomingMessage) {
  const url = request.url ?? '/';
  const at = url.indexOf('?');
  const path = at === -1 ? url : url.slice(0, at);
  return { 'url.path': routeTemplate(path) ?? path, ...(at !== -1 && { 'url.query': redactQuery(url.slice(at + 1)) }) };
}

function outgoingAttributes(request: ClientRequestArgs) {
  const protocol = request.protocol ?? 'https:';
  const host = request.hostname ?? request.host ?? 'localhost';
  const port = request.port ? `:${request.port}` : '';
  const interactionId = headerValue(request.headers, 'x-fapi-interaction-id');
  return {
    'url.full': redactedUrl(`${protocol}//${host}${port}${request.path ?? '/'}`),
    ...(interactionId && { [SPAN_ATTRIBUTES.interactionId]: interactionId }),
  };
}

function headerValue(headers: ClientRequestArgs['headers'], name: string): string | undefined {
  if (!headers || Array.isArray(headers)) return undefined;
  const value = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return typeof value === 'string' ? value : undefined;
}

/** The consent a request is about: a route's `:consentId`, or the consent an authorization journey binds. */
function consentIdOf(ctx: Parameters<Middleware>[0]): string | undefined {
  const fromRoute = (ctx as { params?: Record<string, string> }).params?.consentId;
  if (fromRoute) return fromRoute;
  const journey = ctx.state.journey as { consent?: { id: string } } | undefined;
  return journey?.consent?.id;
}

const requestAttributes: Middleware = async (ctx, next) => {
  // The request's span is node:http's server span; Koa's router layers each have a span of their own below it.
  const request = getRPCMetadata(context.active());
  const span = request?.span;
  if (span) span.setAttribute(SPAN_ATTRIBUTES.interactionId, ctx.state.interactionId as string);
  // Routes the engine serves pass no Koa router: name their spans from the route table (the HTTP instrumentation
  // names the span and sets http.route from this when the response ends; a router layer may refine it).
  if (request && request.type === RPCType.HTTP) request.route = routeTemplate(ctx.path);
  try {
    await next();
  } finally {
    const consentId = consentIdOf(ctx);
    if (span && consentId) span.setAttribute(SPAN_ATTRIBUTES.consentId, consentId);
  }
};

/**
 * Probes and scrapes (the operator's routes: /healthz, /readyz, /metrics) come every few seconds from every
 * kubelet and Prometheus, and would each be a trace of their own.
 */
const UNTRACED_PATHS = new Set(ROUTES.filter((route) => route.caller === 'operator').map((route) => route.path));
const untraced = (request: IncomingMessage) => UNTRACED_PATHS.has((request.url ?? '/').split('?')[0]!);

/** The modules instrumented through the ESM hook; every other module loads unwrapped. */
const HOOKED_MODULES = ['koa', 'pg', 'pg-pool', 'node:http', 'node:https', 'http', 'https'];

export function startTracing(settings: TracingSettings): Tracing {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: HOOKED_MODULES } });
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    // Traces only: metrics are Prometheus's (/metrics) and logs go to stdout.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: untraced,
        startIncomingSpanHook: incomingAttributes,
        startOutgoingSpanHook: outgoingAttributes,
      }),
      // A span per route, not one per middleware of the ~20 every request passes.
      new KoaInstrumentation({ ignoreLayersType: [KoaLayerType.MIDDLEWARE] }),
      // Statements outside a request (the sweeps, the push loop polling) would each be a trace of their own.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
    ],
  });
  sdk.start();
  return { requestAttributes, shutdown: () => sdk.shutdown() };
}

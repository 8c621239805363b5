import { accessSync, constants } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { Branding } from './wording/wording.ts';
import type { RateLimitPolicy } from './protocol/routes.ts';
import { DATABASE_POOLERS, type DatabasePooler } from './protocol/database-pooler.ts';

/**
 * Every setting Assent reads, parsed once from the environment. Nothing else reads process.env:
 * modules receive the slice of this object they need.
 */

const flag = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1');

/**
 * argon2 runs on libuv's thread pool (UV_THREADPOOL_SIZE, 4 unless set), as does WebCrypto's signing and
 * verification: more runs at once than cores only add 19 MiB each and queue the pool's other work behind
 * them. So one per core, and a pool thread always left free.
 */
const defaultPasswordHashConcurrency = Math.max(1, Math.min(availableParallelism(), (Number(process.env.UV_THREADPOOL_SIZE) || 4) - 1));
const seconds = z.coerce
  .number({ error: 'must be a whole number of seconds' })
  .int('must be a whole number of seconds')
  .positive('must be more than 0 seconds');
/** A duration with a ceiling set by a standard: the message names the ceiling and the rule behind it. */
const secondsAtMost = (max: number, why: string) => seconds.max(max, `must be at most ${max} seconds: ${why}`);
/** Where the admin listener opens unless ADMIN_HOST / ADMIN_PORT say otherwise. */
export const ADMIN_LISTENER_DEFAULTS = { host: '127.0.0.1', port: 8444 } as const;

const port = z.coerce
  .number({ error: 'must be a port number (0-65535)' })
  .int('must be a port number (0-65535)')
  .min(0, 'must be a port number (0-65535)')
  .max(65535, 'must be a port number (0-65535)');
const httpsUrl = z.url({ protocol: /^https$/, error: 'must be https (the https URL TPPs use, e.g. https://auth.bank.example)' });

/** postgres://user:password@host:5432/database (or postgresql://). */
const databaseUrl = z.string().refine((value) => {
  try {
    return /^postgres(ql)?:$/.test(new URL(value).protocol);
  } catch {
    return false;
  }
}, 'must be a postgres:// URL, e.g. postgres://user:password@host:5432/assent');

/** `<count>/<seconds>` per client address, or `off`. */
const rateLimit = z
  .string()
  .regex(/^(off|[1-9]\d*\/[1-9]\d*)$/, 'expected <count>/<seconds> or off')
  .transform((value) => {
    if (value === 'off') return undefined;
    const [limit, windowSeconds] = value.split('/').map(Number) as [number, number];
    return { limit, windowSeconds };
  });

const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);

const trustedDirectories = z
  .string()
  .transform((value, context) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'must be JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.array(z.object({ issuer: z.string().min(1), jwks: z.string().min(1) })));

/** Where OTLP goes: the collector's base URL (the exporter adds /v1/traces) or, for the _TRACES_ variable, the whole URL. */
const otlpEndpoint = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL of an OTLP receiver, e.g. http://otel-collector:4318' });
const otlpProtocol = z.enum(['grpc', 'http/protobuf', 'http/json'], { error: 'must be grpc, http/protobuf or http/json' });

/** `#rrggbb`. */
const colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'expected a colour as #rrggbb');

/** WCAG 2 relative luminance of a `#rrggbb` colour. */
function luminance(hex: string) {
  const [red, green, blue] = [1, 3, 5].map((at) => {
    const channel = Number.parseInt(hex.slice(at, at + 2), 16) / 255;
    return channel <= 0.039_28 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * red + 0.7152 * green + 0.0722 * blue;
}

/** WCAG 2 contrast ratio of two `#rrggbb` colours (1 to 21). */
function contrastRatio(first: string, second: string) {
  const [light, dark] = [luminance(first), luminance(second)].toSorted((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

const timeZone = z.string().refine((zone) => {
  try {
    return new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone.length > 0;
  } catch {
    return false;
  }
}, 'expected an IANA time zone such as Europe/London');

const environment = z.object({
  ISSUER: httpsUrl.optional(),
  HOST: z.string().default('127.0.0.1'),
  PORT: port.default(8443),
  DATA_DIR: z.string().default('data'),
  DATABASE_URL: databaseUrl.optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10),
  DATABASE_STARTUP_WAIT: z.coerce.number().int().min(1).max(86_400).default(300),
  DATABASE_PREPARED_STATEMENTS: flag.optional(),
  DATABASE_POOLER: z.enum(DATABASE_POOLERS, { error: `must be ${DATABASE_POOLERS.join(' or ')}` }).default('session'),
  DEV_MODE: flag.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  TLS_CLIENT_CA_FILE: z.string().optional(),
  TLS_TERMINATED_BY_PROXY: flag.default(false),
  CLIENT_CERT_HEADER: z.string().toLowerCase().default('x-client-cert'),
  TRUSTED_PROXIES: list.default([]),

  EIDAS_TRUSTED_CA_FILE: z.string().optional(),
  EIDAS_CRL_FILE: z.string().optional(),
  BERLIN_GROUP_SIGNED_REQUESTS: z.enum(['required', 'off'], { error: 'must be required or off' }).default('off'),

  SIGNING_KEYS_FILE: z.string().optional(),
  ACCESS_TOKEN_TTL: seconds.default(300),
  REFRESH_TOKEN_TTL: seconds.default(90 * 24 * 3600),
  AUTHORIZATION_CODE_TTL: secondsAtMost(60, 'the FAPI 2.0 Security Profile lets an authorization code live no longer').default(60),
  SESSION_TTL: seconds.default(300),
  REFRESH_TOKEN_ROTATION: flag.default(false),
  DPOP_NONCES: z.enum(['required', 'off'], { error: 'must be required or off' }).default('required'),
  SWEEP_INTERVAL: seconds.default(60),
  SEED_DEMO: flag.optional(),

  DASHBOARD_IDLE_TIMEOUT: seconds.default(600),
  DASHBOARD_SESSION_LIFETIME: seconds.default(3600),
  TRUSTED_DIRECTORIES: trustedDirectories.default([]),
  DIRECTORY_JWKS_REFRESH: seconds.default(3600),
  DEV_DIRECTORY: flag.optional(),
  OUTBOUND_ALLOWED_HOSTS: list.default([]),
  SECURITY_EVENTS_URL: z.url({ protocol: /^https$/, error: "must be an https URL (the endpoint of the bank's SIEM or SOAR)" }).optional(),
  SECURITY_EVENTS_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  OUTBOUND_CONNECT_TIMEOUT: seconds.default(3),
  OUTBOUND_TIMEOUT: seconds.default(5),
  OUTBOUND_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(256 * 1024),
  TOTP_ENCRYPTION_KEY: z
    .string()
    .transform((value) => Buffer.from(value, 'base64'))
    .refine((key) => key.length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)')
    .optional(),
  LOCKOUT_DURATION: seconds.default(900),
  SCA_IDLE_TIMEOUT: secondsAtMost(
    300,
    'PSD2 RTS article 4(3)(d) ends an authenticated session after at most 5 minutes without activity',
  ).default(300),
  PASSWORD_HASH_CONCURRENCY: z.coerce.number().int().min(1).default(defaultPasswordHashConcurrency),
  PASSWORD_HASH_QUEUE: z.coerce.number().int().min(0).default(64),
  OPS_PORT: port.optional(),
  OPS_HOST: z.string().default('127.0.0.1'),
  SHUTDOWN_GRACE: seconds.default(10),
  KEY_ACTIVATION_DELAY: seconds.default(3600),
  KEY_REFRESH_INTERVAL: seconds.default(60),
  EVENT_PUSH_INTERVAL_MS: z.coerce.number().int().min(10).default(250),
  EVENT_PUSH_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(12),
  EVENT_PUSH_BACKOFF_MS: z.coerce.number().int().min(10).default(2000),
  EVENT_PUSH_MAX_BACKOFF: seconds.default(3600),
  EVENT_LONG_POLL: z.coerce.number().int().min(0).max(60).default(10),
  RATE_LIMIT_LOGIN: rateLimit.prefault('10/60'),
  RATE_LIMIT_OTP: rateLimit.prefault('5/60'),
  RATE_LIMIT_PAR: rateLimit.prefault('600/60'),
  RATE_LIMIT_TOKEN: rateLimit.prefault('1200/60'),
  RATE_LIMIT_REGISTRATION: rateLimit.prefault('20/3600'),
  RATE_LIMIT_BACKCHANNEL: rateLimit.prefault('120/60'),
  // CIBA: how long a decoupled request waits for the customer, and how often a TPP may poll for it.
  CIBA_REQUEST_LIFETIME: z.coerce.number().int().min(10).max(3600).default(300),
  CIBA_POLL_INTERVAL: z.coerce.number().int().min(1).max(60).default(5),

  // Branding: the bank's identity on every customer-facing page and in the authenticator app.
  BANK_NAME: z.string().trim().min(1).max(80).default('Assent Demo Bank'),
  BANK_LOGO_URL: z
    .string()
    .refine((value) => value.startsWith('/') || /^https:\/\/[^\s]+$/.test(value), 'expected an https URL or a path on this server')
    .optional(),
  BANK_COLOUR_PRIMARY: colour.default('#0b3d5c'),
  BANK_COLOUR_ON_PRIMARY: colour.default('#ffffff'),
  BANK_COLOUR_ACCENT: colour.default('#f0b400'),
  BANK_SUPPORT_CONTACT: z.string().trim().min(1).max(200).optional(),
  BANK_SUPPORT_URL: z
    .url({ protocol: /^https$/, error: 'must be an https URL (customers follow it from every page, e.g. https://bank.example/help)' })
    .optional(),
  // The bank's zone: the pages' dates and times, and the bank day a consent's frequencyPerDay counts in.
  BANK_TIME_ZONE: timeZone.default('Europe/London'),
  ADMIN_HOST: z.string().default(ADMIN_LISTENER_DEFAULTS.host),
  ADMIN_PORT: port.default(ADMIN_LISTENER_DEFAULTS.port),
  ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters (openssl rand -base64 32)').optional(),
  ADMIN_CLIENT_CA_FILE: z.string().optional(),
  ADMIN_URL: z
    // abort: the refinement parses the URL, so it must not run on a value that is not one.
    .url({ protocol: /^https?$/, error: 'must be the admin API base URL, e.g. https://127.0.0.1:8444', abort: true })
    // The admin token travels with every call: plain HTTP only to this machine (a TLS-terminating proxy's loopback port).
    .refine((value) => {
      const url = new URL(value);
      return url.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    }, 'must be https unless it is a loopback address')
    .optional(),
  ADMIN_CA_FILE: z.string().optional(),

  // Tracing (src/ops/tracing.ts): OpenTelemetry's own variables. The SDK reads them itself, by the
  // specification; they are listed here so that a bad value stops the start with one line, so that they decide
  // whether tracing runs at all, and so that tests clear them like every other setting.
  OTEL_SDK_DISABLED: flag.default(false),
  OTEL_SERVICE_NAME: z.string().trim().min(1).default('assent'),
  OTEL_TRACES_EXPORTER: list
    .pipe(z.array(z.enum(['otlp', 'console', 'none'], { error: 'must list otlp, console or none (comma-separated)' })))
    .optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpEndpoint.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: z.string().optional(),
  OTEL_TRACES_SAMPLER: z
    .enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'], {
      error: 'must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio',
    })
    .optional(),
  OTEL_TRACES_SAMPLER_ARG: z.coerce
    .number({ error: 'must be a ratio between 0 and 1' })
    .min(0, 'must be a ratio between 0 and 1')
    .max(1, 'must be a ratio between 0 and 1')
    .optional(),
  OTEL_RESOURCE_ATTRIBUTES: z.string().optional(),
  OTEL_PROPAGATORS: list.optional(),
});

/** Every variable Assent reads (tests clear them all, so a caller's exported PORT or OPS_PORT never leaks in). */
export const CONFIG_VARIABLES = Object.keys(environment.shape);

export interface Config {
  /** Public issuer URL; undefined means https://localhost:<bound port>, resolved once the listener is up. */
  issuer: string | undefined;
  host: string;
  port: number;
  dataDir: string;
  /** Postgres connection string; undefined selects embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  /** Connections per process in the pg pool. */
  poolSize: number;
  /** Repeated statements run as named prepared statements (off behind a pooler that cannot keep them). */
  preparedStatements: boolean;
  /** What a pooled connection is on the server: a session of its own, or one lent per transaction (docs/production.md). */
  pooler: DatabasePooler;
  /** Seconds start-up waits for an unreachable database before giving up with one line. */
  startupWaitSeconds: number;
  /** Development conveniences: generated keys, certificates and demo data. Never in production. */
  devMode: boolean;
  /** The mode and why it was chosen, for the start-up log. */
  mode: { name: 'development' | 'production'; reason: string };
  seedDemo: boolean;
  logLevel: z.infer<typeof environment>['LOG_LEVEL'];
  tls: {
    terminatedByProxy: boolean;
    certFile: string | undefined;
    keyFile: string | undefined;
    clientCaFile: string | undefined;
    clientCertHeader: string;
    trustedProxies: string[];
  };
  signingKeysFile: string | undefined;
  /** TPPs known by their eIDAS certificates, with no registration (Berlin Group; src/tpp/eidas-*.ts). */
  eidas: {
    /** CAs that issue QWACs and QSealCs; dev mode defaults to the dev CA (DATA_DIR/tls/ca.pem); undefined trusts none. */
    trustedCaFile: string | undefined;
    /** Their CRLs (PEM or DER), re-read when the file changes; undefined: no certificate is known revoked. */
    crlFile: string | undefined;
    /** `required`: every Berlin Group request carries Digest, Signature and TPP-Signature-Certificate. */
    signedRequests: 'required' | 'off';
  };
  ttl: {
    accessToken: number;
    refreshToken: number;
    authorizationCode: number;
    session: number;
  };
  /** Issue a new refresh token on each use (off by default: FAPI 2.0 prefers non-rotating refresh tokens). */
  refreshTokenRotation: boolean;
  /** `required`: every DPoP proof, at the engine's endpoints and Assent's own, carries a server nonce (RFC 9449 sections 8 and 9). */
  dpopNonces: 'required' | 'off';
  sweepIntervalSeconds: number;
  /** The customer consent dashboard's own sessions. */
  dashboard: { idleTimeoutSeconds: number; sessionLifetimeSeconds: number };
  tpp: {
    /** Software statement issuers and where their JWKS lives (https URL or file). */
    trustedDirectories: { issuer: string; jwks: string }[];
    directoryRefreshSeconds: number;
    /** Generate and trust a dev directory key under dataDir (dev mode only). */
    devDirectory: boolean;
  };
  /** Where security events are also POSTed as signed JWS (the bank's SIEM or SOAR); off when unset. */
  securityEvents: { url: string; attempts: number; firstRetryMs: number } | undefined;
  /** The SSRF guard for every URL the server fetches. */
  outbound: {
    allowedHosts: string[];
    connectTimeoutMs: number;
    totalTimeoutMs: number;
    maxResponseBytes: number;
  };
  /** Strong customer authentication (PSD2 RTS Art. 4). */
  sca: {
    /** AES-256 key for TOTP secrets at rest; undefined in dev mode means a generated key kept in the database. */
    totpEncryptionKey: Buffer | undefined;
    lockoutSeconds: number;
    idleTimeoutSeconds: number;
    /** argon2 runs at once (each takes 19 MiB) and how many more may wait before sign-ins are turned away. */
    passwordHashConcurrency: number;
    passwordHashQueue: number;
  };
  /** /healthz, /readyz and /metrics on their own plain-HTTP listener; undefined serves them on the main port. */
  ops: { port: number | undefined; host: string };
  /** On shutdown, in-flight requests get this long before their connections are cut. */
  shutdownGraceSeconds: number;
  /** Per client address, shared through the database; undefined switches a policy off. */
  rateLimits: Record<RateLimitPolicy, { limit: number; windowSeconds: number } | undefined>;
  /** Decoupled (CIBA) requests: the longest a request waits for the customer (a TPP may ask for less) and the polling interval. */
  ciba: { requestLifetimeSeconds: number; pollIntervalSeconds: number };
  /** The bank's name, logo, colours, support contact and time zone on every customer-facing surface. */
  branding: Branding;
  /** Event notifications (src/events/): push retries and aggregated polling. */
  events: {
    /** How often an idle process looks for events to push (ms). */
    pushIntervalMs: number;
    /** Attempts before a push is dead-lettered. */
    pushMaxAttempts: number;
    /** First retry delay (ms), doubling per attempt up to pushMaxBackoffMs. */
    pushBackoffMs: number;
    pushMaxBackoffMs: number;
    /** The longest a poll with returnImmediately=false waits for an event (s). */
    longPollSeconds: number;
  };
  /** The operator's admin API (src/admin/) on its own listener, and where the admin CLI finds it. */
  admin: {
    host: string;
    port: number;
    /** Bearer token for the API; dev mode generates one into DATA_DIR/admin-token when unset. */
    token: string | undefined;
    /** CAs of admin client certificates (their CN names the operator). */
    clientCaFile: string | undefined;
    /** CLI: a server's admin API elsewhere, and the CA its certificate chains to. */
    url: string | undefined;
    caFile: string | undefined;
  };
  /**
   * OpenTelemetry tracing, when the OTEL_* variables ask for an exporter (an OTLP endpoint or OTEL_TRACES_EXPORTER);
   * undefined leaves it off, and then none of its code is even loaded (main.ts imports it only when set).
   */
  tracing: { serviceName: string } | undefined;
  keyRotation: {
    /** A rotated key is published this long before it signs (`keys:rotate`). */
    activationDelaySeconds: number;
    /** How often each process re-reads the signing keys from the database. */
    refreshIntervalSeconds: number;
  };
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function modeOf(devMode: boolean | undefined, hasDatabaseUrl: boolean): Config['mode'] {
  if (devMode !== undefined) return { name: devMode ? 'development' : 'production', reason: `DEV_MODE=${devMode}` };
  return hasDatabaseUrl
    ? { name: 'production', reason: 'DATABASE_URL is set and DEV_MODE is not' }
    : { name: 'development', reason: 'DATABASE_URL is not set (embedded PGlite)' };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Variables whose values never appear in an error message. */
const SECRET = new Set(['DATABASE_URL', 'TOTP_ENCRYPTION_KEY', 'ADMIN_TOKEN']);

/** Settings that name files: each must be readable, or start-up stops naming the variable and the file. */
const FILES = [
  'TLS_CERT_FILE',
  'TLS_KEY_FILE',
  'TLS_CLIENT_CA_FILE',
  'SIGNING_KEYS_FILE',
  'EIDAS_TRUSTED_CA_FILE',
  'EIDAS_CRL_FILE',
  'ADMIN_CLIENT_CA_FILE',
  'ADMIN_CA_FILE',
] as const;

function unreadable(file: string): string | undefined {
  try {
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not readable by this user';
  }
}

/** One line per problem: the variable, what is wrong, and (unless secret) the value it had. */
function describeIssue(issue: z.core.$ZodIssue, env: Record<string, string | undefined>): string {
  const name = String(issue.path[0]);
  const value = env[name];
  const shown = value === undefined || SECRET.has(name) ? '' : ` (got ${JSON.stringify(value)})`;
  return `${name} ${issue.message}${shown}`;
}

/** A listener the server will open, with the settings that place it. */
export interface PlannedListener {
  portVariable: 'PORT' | 'OPS_PORT' | 'ADMIN_PORT';
  hostVariable: 'HOST' | 'OPS_HOST' | 'ADMIN_HOST';
  host: string;
  port: number;
}

/**
 * The listeners a configuration opens: the public one, the ops one when OPS_PORT is set, and the admin
 * API's when it has a credential to check (ADMIN_TOKEN, ADMIN_CLIENT_CA_FILE, or dev mode's generated
 * token; src/admin/admin-listener.ts).
 */
export function plannedListeners(config: Pick<Config, 'host' | 'port' | 'ops' | 'admin' | 'devMode'>): PlannedListener[] {
  const adminOn = config.devMode || config.admin.token !== undefined || config.admin.clientCaFile !== undefined;
  return [
    { portVariable: 'PORT', hostVariable: 'HOST', host: config.host, port: config.port },
    ...(config.ops.port === undefined
      ? []
      : [{ portVariable: 'OPS_PORT' as const, hostVariable: 'OPS_HOST' as const, host: config.ops.host, port: config.ops.port }]),
    ...(adminOn
      ? [{ portVariable: 'ADMIN_PORT' as const, hostVariable: 'ADMIN_HOST' as const, host: config.admin.host, port: config.admin.port }]
      : []),
  ];
}

/** Two listeners on one port: the second could never open, so start-up would stop half-way. */
function sharedPort(config: Config, env: Record<string, string | undefined>): string | undefined {
  const listeners = plannedListeners(config).filter((listener) => listener.port !== 0);
  for (const [index, first] of listeners.entries()) {
    const second = listeners.slice(index + 1).find((other) => other.port === first.port);
    const named = (variable: string) => (env[variable] === undefined ? `${variable} (by default)` : variable);
    if (second)
      return `${named(second.portVariable)} and ${named(first.portVariable)} are both ${first.port}: each listener needs a port of its own`;
  }
  return undefined;
}

/**
 * Tracing is off unless asked for: an exporter named other than `none`, or, with none named, an OTLP endpoint
 * (the SDK's own default would otherwise send to localhost:4318 from every process that merely left it unset).
 */
function tracingWanted(e: z.infer<typeof environment>): boolean {
  if (e.OTEL_SDK_DISABLED) return false;
  // As the SDK reads it: `none` anywhere in the list switches traces off.
  if (e.OTEL_TRACES_EXPORTER) return e.OTEL_TRACES_EXPORTER.length > 0 && !e.OTEL_TRACES_EXPORTER.includes('none');
  return e.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    const firstPerVariable = [...new Map(parsed.error.issues.toReversed().map((issue) => [issue.path[0], issue])).values()].toReversed();
    throw new ConfigError(firstPerVariable.map((issue) => describeIssue(issue, env)).join('\n'));
  }
  const e = parsed.data;
  const missingFiles = FILES.flatMap((name) => {
    const file = e[name];
    const problem = file === undefined ? undefined : unreadable(file);
    return problem ? [`${name}: cannot read ${path.resolve(file!)} (${problem})`] : [];
  });
  if (missingFiles.length > 0) throw new ConfigError(missingFiles.join('\n'));
  const devMode = e.DEV_MODE ?? e.DATABASE_URL === undefined;
  const mode = modeOf(e.DEV_MODE, e.DATABASE_URL !== undefined);
  const inProduction = `in production mode (${mode.reason}; for development on Postgres set DEV_MODE=true)`;
  if (!devMode && !e.TLS_TERMINATED_BY_PROXY && (!e.TLS_CERT_FILE || !e.TLS_KEY_FILE)) {
    throw new ConfigError(`TLS_CERT_FILE and TLS_KEY_FILE are required ${inProduction}, unless TLS_TERMINATED_BY_PROXY=true`);
  }
  if (!devMode && !e.ISSUER)
    throw new ConfigError(`ISSUER is required ${inProduction}: the https URL TPPs use, e.g. ISSUER=https://auth.bank.example`);
  if (!devMode && !e.TOTP_ENCRYPTION_KEY) throw new ConfigError(`TOTP_ENCRYPTION_KEY is required ${inProduction}: openssl rand -base64 32`);
  if (e.KEY_ACTIVATION_DELAY <= e.KEY_REFRESH_INTERVAL) {
    throw new ConfigError(
      'KEY_ACTIVATION_DELAY must exceed KEY_REFRESH_INTERVAL, or a process could sign with a key others do not publish yet',
    );
  }
  if (e.TLS_TERMINATED_BY_PROXY && e.TRUSTED_PROXIES.length === 0) {
    throw new ConfigError(
      'TLS_TERMINATED_BY_PROXY=true needs TRUSTED_PROXIES (the proxy addresses allowed to forward client certificates)',
    );
  }
  if (contrastRatio(e.BANK_COLOUR_PRIMARY, e.BANK_COLOUR_ON_PRIMARY) < 4.5) {
    throw new ConfigError(
      'BANK_COLOUR_ON_PRIMARY must contrast with BANK_COLOUR_PRIMARY at 4.5:1 or more (WCAG AA), or customers cannot read the buttons',
    );
  }
  if (e.TLS_TERMINATED_BY_PROXY && !LOOPBACK.has(e.ADMIN_HOST)) {
    throw new ConfigError(
      'ADMIN_HOST must be a loopback address (127.0.0.1, ::1, localhost) with TLS_TERMINATED_BY_PROXY=true: the admin API then speaks plain HTTP',
    );
  }
  const config: Config = {
    issuer: e.ISSUER?.replace(/\/$/, ''),
    host: e.HOST,
    port: e.PORT,
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    poolSize: e.DATABASE_POOL_SIZE,
    preparedStatements: e.DATABASE_PREPARED_STATEMENTS ?? e.DATABASE_POOLER !== 'transaction',
    pooler: e.DATABASE_POOLER,
    startupWaitSeconds: e.DATABASE_STARTUP_WAIT,
    devMode,
    mode,
    seedDemo: e.SEED_DEMO ?? devMode,
    logLevel: e.LOG_LEVEL,
    tls: {
      terminatedByProxy: e.TLS_TERMINATED_BY_PROXY,
      certFile: e.TLS_CERT_FILE,
      keyFile: e.TLS_KEY_FILE,
      clientCaFile: e.TLS_CLIENT_CA_FILE,
      clientCertHeader: e.CLIENT_CERT_HEADER,
      trustedProxies: e.TRUSTED_PROXIES,
    },
    signingKeysFile: e.SIGNING_KEYS_FILE,
    eidas: {
      trustedCaFile: e.EIDAS_TRUSTED_CA_FILE ?? (devMode ? path.join(path.resolve(e.DATA_DIR), 'tls', 'ca.pem') : undefined),
      crlFile: e.EIDAS_CRL_FILE,
      signedRequests: e.BERLIN_GROUP_SIGNED_REQUESTS,
    },
    ttl: {
      accessToken: e.ACCESS_TOKEN_TTL,
      refreshToken: e.REFRESH_TOKEN_TTL,
      authorizationCode: e.AUTHORIZATION_CODE_TTL,
      session: e.SESSION_TTL,
    },
    refreshTokenRotation: e.REFRESH_TOKEN_ROTATION,
    dpopNonces: e.DPOP_NONCES,
    sweepIntervalSeconds: e.SWEEP_INTERVAL,
    dashboard: { idleTimeoutSeconds: e.DASHBOARD_IDLE_TIMEOUT, sessionLifetimeSeconds: e.DASHBOARD_SESSION_LIFETIME },
    tpp: {
      trustedDirectories: e.TRUSTED_DIRECTORIES,
      directoryRefreshSeconds: e.DIRECTORY_JWKS_REFRESH,
      devDirectory: devMode && (e.DEV_DIRECTORY ?? true),
    },
    securityEvents: e.SECURITY_EVENTS_URL
      ? { url: e.SECURITY_EVENTS_URL, attempts: e.SECURITY_EVENTS_ATTEMPTS, firstRetryMs: 1000 }
      : undefined,
    outbound: {
      allowedHosts: e.OUTBOUND_ALLOWED_HOSTS,
      connectTimeoutMs: e.OUTBOUND_CONNECT_TIMEOUT * 1000,
      totalTimeoutMs: e.OUTBOUND_TIMEOUT * 1000,
      maxResponseBytes: e.OUTBOUND_MAX_BYTES,
    },
    sca: {
      totpEncryptionKey: e.TOTP_ENCRYPTION_KEY,
      lockoutSeconds: e.LOCKOUT_DURATION,
      idleTimeoutSeconds: e.SCA_IDLE_TIMEOUT,
      passwordHashConcurrency: e.PASSWORD_HASH_CONCURRENCY,
      passwordHashQueue: e.PASSWORD_HASH_QUEUE,
    },
    ops: { port: e.OPS_PORT, host: e.OPS_HOST },
    shutdownGraceSeconds: e.SHUTDOWN_GRACE,
    rateLimits: {
      login: e.RATE_LIMIT_LOGIN,
      otp: e.RATE_LIMIT_OTP,
      par: e.RATE_LIMIT_PAR,
      token: e.RATE_LIMIT_TOKEN,
      registration: e.RATE_LIMIT_REGISTRATION,
      backchannel: e.RATE_LIMIT_BACKCHANNEL,
    },
    ciba: { requestLifetimeSeconds: e.CIBA_REQUEST_LIFETIME, pollIntervalSeconds: e.CIBA_POLL_INTERVAL },
    events: {
      pushIntervalMs: e.EVENT_PUSH_INTERVAL_MS,
      pushMaxAttempts: e.EVENT_PUSH_MAX_ATTEMPTS,
      pushBackoffMs: e.EVENT_PUSH_BACKOFF_MS,
      pushMaxBackoffMs: e.EVENT_PUSH_MAX_BACKOFF * 1000,
      longPollSeconds: e.EVENT_LONG_POLL,
    },
    admin: {
      host: e.ADMIN_HOST,
      port: e.ADMIN_PORT,
      token: e.ADMIN_TOKEN,
      clientCaFile: e.ADMIN_CLIENT_CA_FILE,
      url: e.ADMIN_URL?.replace(/\/$/, ''),
      caFile: e.ADMIN_CA_FILE,
    },
    tracing: tracingWanted(e) ? { serviceName: e.OTEL_SERVICE_NAME } : undefined,
    keyRotation: { activationDelaySeconds: e.KEY_ACTIVATION_DELAY, refreshIntervalSeconds: e.KEY_REFRESH_INTERVAL },
    branding: {
      bankName: e.BANK_NAME,
      logoUrl: e.BANK_LOGO_URL,
      colours: { primary: e.BANK_COLOUR_PRIMARY, onPrimary: e.BANK_COLOUR_ON_PRIMARY, accent: e.BANK_COLOUR_ACCENT },
      supportContact: e.BANK_SUPPORT_CONTACT,
      supportUrl: e.BANK_SUPPORT_URL,
      timeZone: e.BANK_TIME_ZONE,
    },
  };
  const portProblem = sharedPort(config, env);
  if (portProblem) throw new ConfigError(portProblem);
  return config;
}

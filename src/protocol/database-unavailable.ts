/**
 * The database cannot be reached right now (stopped, restarting, network gone, pool exhausted). Every
 * layer answers it as "temporarily unavailable, try again" (503) in its own protocol's shape. It carries
 * the fields oidc-provider's and Koa's error handlers read (`expose`, `statusCode`, OAuth `error` as the
 * message), so the provider's own routes answer `temporarily_unavailable` JSON without knowing this class.
 */
export class DatabaseUnavailable extends Error {
  override name = 'DatabaseUnavailable';
  readonly status = 503;
  readonly statusCode = 503;
  readonly expose = true;
  readonly error = 'temporarily_unavailable';
  readonly error_description = 'the service is temporarily unavailable, try again shortly';
  /** Seconds a client should wait before retrying. */
  readonly retryAfterSeconds = 5;
  constructor(options?: ErrorOptions) {
    super('temporarily_unavailable', options);
  }
}

/** Socket-level failures on the way to the database server. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTCONN',
]);

/**
 * SQLSTATEs of a database that is going away, starting up or saturated: class 08 (connection exception),
 * 57P01-57P03 (admin/crash shutdown, cannot connect now), 53300 (too many connections), 57014 (a statement
 * cancelled by statement_timeout: the server is too slow to answer now).
 */
function isUnavailableSqlState(code: string) {
  return code.startsWith('08') || ['57P01', '57P02', '57P03', '53300', '57014'].includes(code);
}

/** Messages node-postgres gives its own connection failures, which carry no code. */
const PG_CONNECTION_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Query read timeout/,
  /not queryable/,
  /^Client was closed/,
];

/** True for an error that means "the database is not reachable now", as opposed to a bad query. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailable) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || isUnavailableSqlState(code))) return true;
  if (error instanceof AggregateError) return error.errors.some(isDatabaseUnavailable);
  return PG_CONNECTION_MESSAGES.some((pattern) => pattern.test(error.message));
}

/** Rethrows connection failures as DatabaseUnavailable (the original as `cause`); anything else unchanged. */
export function toDatabaseError(error: unknown): never {
  throw isDatabaseUnavailable(error) && !(error instanceof DatabaseUnavailable) ? new DatabaseUnavailable({ cause: error }) : error;
}

/**
 * One line for a database that cannot be used, naming DATABASE_URL (without its password) and what
 * to check, instead of a driver stack trace. Undefined when the error is not about reaching the database.
 */
const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused: is Postgres running and listening there?',
  ENOTFOUND: 'host not found: check the host name',
  EAI_AGAIN: 'host name lookup failed: check the host name and DNS',
  ETIMEDOUT: 'connection timed out: check the host, port and firewall',
  EHOSTUNREACH: 'host unreachable: check the host and network',
  '28P01': 'password authentication failed: check the user and password',
  '28000': 'the server refused this user: check pg_hba.conf and the user name',
  '3D000': 'the database does not exist: create it (createdb) or fix the name',
};

function redacted(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(not a URL)';
  }
}

/** PgBouncer's refusal of a session setting Assent sends when it expects a session of its own (connect.ts). */
const POOLER_REFUSAL = /unsupported startup parameter/;

/** True when a transaction pooler refused the connection's startup parameters (its error, or one it caused). */
export function refusedByPooler(error: unknown): boolean {
  const candidates = [error, (error as { cause?: unknown } | undefined)?.cause];
  return candidates.some((candidate) => candidate instanceof Error && POOLER_REFUSAL.test(candidate.message));
}

export function describeDatabaseFailure(error: unknown, databaseUrl: string | undefined): string | undefined {
  if (!databaseUrl) return undefined;
  if (refusedByPooler(error)) {
    return `cannot use the database in DATABASE_URL (${redacted(databaseUrl)}): a connection pooler refused the session settings Assent sends; behind a transaction pooler set DATABASE_POOLER=transaction`;
  }
  const errors = error instanceof AggregateError ? [error, ...error.errors] : [error, (error as { cause?: unknown }).cause];
  for (const candidate of errors) {
    const code = (candidate as { code?: string } | undefined)?.code;
    if (code && CAUSES[code]) return `cannot use the database in DATABASE_URL (${redacted(databaseUrl)}): ${CAUSES[code]}`;
  }
  if (error instanceof TypeError && /Invalid URL|ERR_INVALID_URL/.test(`${error.message} ${(error as { code?: string }).code}`)) {
    return 'DATABASE_URL is not a valid URL: expected postgres://user:password@host:5432/database';
  }
  return undefined;
}

import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Request headers and fields that carry credentials never reach a log line. `code` is a secret only
 * where a request carries it (an authorization code, a one-time code); elsewhere it is an error code
 * (a Postgres SQLSTATE, an errno) that operators need to see.
 */
const REDACT = [
  'req.headers.authorization',
  'req.headers.dpop',
  'req.headers.cookie',
  'req.headers["x-client-cert"]',
  '*.password',
  '*.client_assertion',
  ...['body', 'params', 'query', 'form'].flatMap((container) => [`${container}.code`, `*.${container}.code`]),
  '*.code_verifier',
  '*.refresh_token',
  '*.access_token',
  '*.token',
  '*.id_token',
  '*.client_secret',
  '*.assertion',
  '*.otp',
  '*.request',
  '*.d',
  '*.privateKey',
];

/** `destination` lets tests capture the JSON lines; stdout otherwise. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}

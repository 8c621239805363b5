import { pino, type DestinationStream, type Logger } from 'pino';

/** Request headers and fields that carry credentials never reach a log line. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.dpop',
  'req.headers.cookie',
  'req.headers["x-client-cert"]',
  '*.password',
  '*.client_assertion',
  '*.code',
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

import type { z } from 'zod';

/** One line for the first problem with an operation's input: `--field: message` reads the same to CLI and API users. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid input';
  const field = issue.path.map(String).join('.');
  const message = issue.code === 'invalid_type' && /received undefined/.test(issue.message) ? 'is required' : issue.message;
  return field ? `${field}: ${message}` : message;
}

import type { Config } from '../config.ts';

/**
 * A CLI-only command: dev tooling that works on files beside the server, never through the admin API
 * or the database (`customer:otp`, `directory:issue-ssa`). Every other command is an admin operation.
 */
export interface LocalCommand {
  name: string;
  usage: string;
  summary: string;
  /** Allowed only in dev mode (demo helpers, secrets printed for testing). */
  devOnly?: boolean;
  options?: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;
  run(
    context: { config: Config; out: (line: string) => void },
    input: { positionals: string[]; values: Record<string, unknown> },
  ): Promise<unknown>;
}

/** The command line itself is wrong: exit 2 with the usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

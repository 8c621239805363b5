import type { Config } from '../config.ts';
import type { Db } from '../db/connect.ts';

export interface AdminContext {
  config: Config;
  db: Db;
  /** Where a command writes what the operator reads. */
  out: (line: string) => void;
}

/** One operator action: `npm run admin -- <name> [positionals] [--option value]`. */
export interface AdminCommand {
  name: string;
  usage: string;
  summary: string;
  /** Allowed only in dev mode (demo helpers, secrets printed for testing). */
  devOnly?: boolean;
  /** False for commands that never touch the database (safe to run beside an embedded-mode server). */
  database?: false;
  options?: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;
  run(context: AdminContext, input: { positionals: string[]; values: Record<string, unknown> }): Promise<void>;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

import { z } from 'zod';
import type { Config } from '../config.ts';
import type { Db } from '../db/connect.ts';

/**
 * One operator action, declared once: the admin API serves it at `method path`, the admin CLI runs it
 * as `name` (through that API whenever a server runs, otherwise against the database itself), and the
 * OpenAPI document describes it. Input fields are path parameters, then query (GET) or JSON body fields.
 */

/** Who acts: the audit trail and the security log name them on every change. */
export interface Operator {
  /** What records name them by (audit actor, blocked_by, key rotations): `via:name` (operatorOf). */
  id: string;
  name: string;
  /** How the operator was authenticated: the admin token, an admin client certificate, or the local CLI. */
  via: 'admin-token' | 'client-certificate' | 'local-cli';
}

/**
 * An operator, recorded with the credential that vouched for the name: a certificate proves its CN
 * and the local CLI runs as the system user, but the shared admin token only carries whatever name
 * its caller put in a header, so `admin-token:ops.alice` and `client-certificate:ops.alice` must not
 * read the same in the audit trail.
 */
export function operatorOf(name: string, via: Operator['via']): Operator {
  return { id: `${via}:${name}`, name, via };
}

export interface OperationContext {
  db: Db;
  config: Config;
  operator: Operator;
  /** In a server: publishes signing keys changed by the operation in this process now (others follow within KEY_REFRESH_INTERVAL). */
  signingKeysChanged?: () => Promise<void>;
}

export interface AdminOperation<Input extends z.ZodObject = z.ZodObject, Output = unknown> {
  /** The CLI command, `<noun>:<verb>`. */
  name: string;
  summary: string;
  method: 'GET' | 'POST';
  /** Under /admin/v1; `:field` segments are input fields. */
  path: string;
  input: Input;
  /** Input fields the CLI takes as positional arguments, in order; the rest are `--kebab-case` options. */
  positionals?: (keyof z.infer<Input> & string)[];
  /** `jsonl`: the result is an array answered (and printed) as JSON Lines. */
  format?: 'json' | 'jsonl';
  /** What a `json` operation answers, for the OpenAPI document; `run` must return exactly this type. */
  output?: z.ZodType<Output>;
  run(context: OperationContext, input: z.infer<Input>): Promise<Output>;
}

/** Declares an operation with its input type (and, when it declares one, its output type) inferred from the schemas. */
export function operation<Input extends z.ZodObject, Output = unknown>(definition: AdminOperation<Input, Output>): AdminOperation {
  return definition as unknown as AdminOperation;
}

export type AdminErrorCode = 'invalid_request' | 'not_found' | 'conflict' | 'unauthorized';

const STATUS: Record<AdminErrorCode, number> = { invalid_request: 400, unauthorized: 401, not_found: 404, conflict: 409 };

/** An operator mistake with a one-line explanation: 4xx from the API, exit 1 from the CLI. */
export class AdminError extends Error {
  override name = 'AdminError';
  readonly code: AdminErrorCode;
  readonly status: number;
  readonly expose = true;
  constructor(code: AdminErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.status = STATUS[code];
  }
}

/** Why an operator acts, in words: recorded in the audit trail with the change. */
export const reasonField = z.string().trim().min(1).max(500).describe('why, in words, for the audit trail (at most 500 characters)');

/** The audit trail's actor for an operator's change. */
export function actorOf(operator: Operator) {
  return { kind: 'operator' as const, id: operator.id };
}

/**
 * Names for the statements a process runs again and again, so that Postgres parses and plans each one
 * once per connection instead of on every run. Unnamed, every statement was parsed and planned anew: that
 * was half of Postgres's CPU in a complete flow (bench: 26 -> 13 ms per flow).
 *
 * Only statements with parameters are named (they travel in the extended protocol anyway, one command
 * each), from their second run on, and at most MAX_NAMED texts per process: the statements that repeat
 * first are the hot ones, and texts that vary (an IN list of each length) stay unnamed once the cap is
 * reached, so neither Postgres nor this process holds an unbounded set of prepared statements.
 */
const MAX_NAMED = 1_000;
/** Texts seen once, waiting for their second run; forgotten wholesale when full. */
const MAX_SEEN = 10_000;

export class StatementNames {
  readonly #names = new Map<string, string>();
  readonly #seenOnce = new Set<string>();
  #issued = 0;

  /** The name to run `text` under, or undefined to run it unnamed. */
  name(text: string): string | undefined {
    const named = this.#names.get(text);
    if (named !== undefined || this.#names.size >= MAX_NAMED) return named;
    if (!this.#seenOnce.delete(text)) {
      if (this.#seenOnce.size >= MAX_SEEN) this.#seenOnce.clear();
      this.#seenOnce.add(text);
      return undefined;
    }
    // Never reused: pg refuses a name it has parsed on a connection for a different text.
    const name = `assent_${++this.#issued}`;
    this.#names.set(text, name);
    return name;
  }

  /** Drops a name Postgres refused (see isStaleStatement); the text is named afresh after it repeats. */
  forget(text: string) {
    this.#names.delete(text);
  }
}

/**
 * Postgres refused a named statement it had prepared before, without running it: a migration changed the
 * columns a `select *` returns ("cached plan must not change result type"), or the statement is gone from
 * the server session. Running the text again, unnamed, is safe.
 */
export function isStaleStatement(error: unknown): boolean {
  const { code, routine } = (error ?? {}) as { code?: unknown; routine?: unknown };
  return code === '26000' || (code === '0A000' && routine === 'RevalidateCachedQuery');
}

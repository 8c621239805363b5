import type { Logger } from 'pino';

/**
 * What a running server holds open (the database pool, listeners, background jobs), in the order it
 * was started: each part is recorded with how to stop it as soon as it has started, and `stop` ends
 * them in reverse, so a part never outlives one it depends on (listeners drain before the jobs and
 * the pool they use go). A start-up that fails part-way stops what had started, the same way, so the
 * process neither serves nor lingers.
 */
export class Lifecycle {
  readonly #started: { name: string; stop: () => unknown }[] = [];
  readonly #logger: Logger;
  #stopping: Promise<void> | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Records a started part; returns `part` for the caller to use. */
  started<T>(name: string, part: T, stop: (part: T) => unknown): T {
    this.#started.push({ name, stop: () => stop(part) });
    return part;
  }

  /**
   * Stops every part in reverse order of starting, each awaited; one that fails to stop is logged and
   * the rest still stop. Stopping twice stops once.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const { name, stop } of this.#started.toReversed()) {
        try {
          await stop();
        } catch (error) {
          this.#logger.warn({ err: error, part: name }, 'a part of the server failed to stop');
        }
      }
    })();
    return this.#stopping;
  }
}

/**
 * A counting semaphore with a bounded queue: at most `concurrency` jobs run, at most `queue` wait,
 * and the rest are turned away at once. Guards argon2 (19 MiB per run) against a flood of sign-ins.
 */

export class TooBusy extends Error {
  override name = 'TooBusy';
  readonly status = 503;
  readonly expose = true;
  constructor() {
    super('Too many people are signing in right now. Please try again in a moment.');
  }
}

export interface WorkLimiter {
  run<T>(work: () => Promise<T>): Promise<T>;
}

export function createWorkLimiter(options: { concurrency: number; queue: number }): WorkLimiter {
  let running = 0;
  const waiting: (() => void)[] = [];

  async function acquire() {
    if (running < options.concurrency) {
      running += 1;
      return;
    }
    if (waiting.length >= options.queue) throw new TooBusy();
    // The releasing job hands its slot over directly, so `running` stays as it is.
    await new Promise<void>((resolve) => waiting.push(resolve));
  }

  function release() {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }

  return {
    async run(work) {
      await acquire();
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}

/**
 * A counting semaphore with a bounded queue: at most `concurrency` jobs run, at most `queue` wait,
 * and the rest are turned away at once. Guards argon2 (19 MiB per run) against a flood of sign-ins.
 */

export type Limited<T> = { ran: true; value: T } | { ran: false };

export interface WorkLimiter {
  run<T>(work: () => Promise<T>): Promise<Limited<T>>;
}

export function createWorkLimiter(options: { concurrency: number; queue: number }): WorkLimiter {
  let running = 0;
  const waiting: (() => void)[] = [];

  async function acquire(): Promise<boolean> {
    if (running < options.concurrency) {
      running += 1;
      return true;
    }
    if (waiting.length >= options.queue) return false;
    // The releasing job hands its slot over directly, so `running` stays as it is.
    await new Promise<void>((resolve) => waiting.push(resolve));
    return true;
  }

  function release() {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }

  return {
    async run(work) {
      if (!(await acquire())) return { ran: false };
      try {
        return { ran: true, value: await work() };
      } finally {
        release();
      }
    },
  };
}

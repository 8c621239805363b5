import { sql } from 'kysely';
import type { Db } from '../../src/db/connect.ts';

/**
 * Time that a test moves forward, for the whole of an in-process Assent at once: this process's
 * `Date` (the engine, jose, the server's own checks, and the test's openid-client, the TPP) and the
 * test database's `now()` and `clock_timestamp()` (a database made with `movableClock`, see
 * test/support/database.ts). Timers, TLS and Postgres's own internals keep real time: the dev
 * certificates are valid for 825 days from when they were made, so a test makes its TPPs (their
 * client certificates) before it moves the clock.
 */
export interface MovableClock {
  /** Moves both clocks forward by `ms` from wherever they are. */
  advance(ms: number): Promise<void>;
  /** Moves both clocks forward to `instant` (which must not be in the clocks' past). */
  advanceTo(instant: Date): Promise<void>;
  /** How far both clocks are ahead of real time, in milliseconds. */
  readonly offsetMs: number;
  /** Puts back the real `Date` (the database is dropped with its clock). */
  restore(): void;
}

export const minutes = (n: number) => n * 60_000;
export const hours = (n: number) => n * 3_600_000;
export const days = (n: number) => n * 86_400_000;

const RealDate = globalThis.Date;

/**
 * Replaces `globalThis.Date` with the real one seen through a Proxy: `Date.now()` and `new Date()`
 * read real time plus the offset; with arguments, as a function and everywhere else it is the real
 * `Date`. A Proxy rather than a subclass keeps `instanceof Date` true for dates made before, or by
 * Node itself (an X509Certificate's validity, pg's parsed timestamps in any module).
 */
function shiftedDate(offset: () => number): DateConstructor {
  const now = () => RealDate.now() + offset();
  return new Proxy(RealDate, {
    construct: (target, args, newTarget) => Reflect.construct(target, args.length === 0 ? [now()] : args, newTarget),
    apply: () => new RealDate(now()).toString(),
    get: (target, property, receiver) => (property === 'now' ? now : Reflect.get(target, property, receiver)),
  });
}

/** The movable clock of an Assent whose database was made with `movableClock`; `db` is its pool. */
export function movableClock(db: Db): MovableClock {
  if (globalThis.Date !== RealDate) throw new Error('one movable clock per process: restore the last one first');
  let offsetMs = 0;
  globalThis.Date = shiftedDate(() => offsetMs);
  const advance = async (ms: number) => {
    if (!(ms >= 0)) throw new RangeError(`the clock only moves forward (asked to move ${ms} ms)`);
    const next = offsetMs + ms;
    await sql`update public.test_clock set shift = make_interval(secs => ${next / 1000})`.execute(db);
    offsetMs = next;
  };
  return {
    advance,
    advanceTo: (instant) => advance(instant.getTime() - Date.now()),
    get offsetMs() {
      return offsetMs;
    },
    restore() {
      globalThis.Date = RealDate;
    },
  };
}

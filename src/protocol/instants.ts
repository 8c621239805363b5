/**
 * The instants Assent takes from outside (consent requests, admin queries): from the Unix epoch to the
 * end of the last four-digit year. ISO 8601 allows year 0000 and JavaScript's Date years as far as
 * -271821, none of which a consent or an operator means, and some of which Postgres cannot store.
 */
const EARLIEST_MS = Date.UTC(1970, 0, 1);
const LATEST_MS = Date.UTC(10_000, 0, 1);

export const INSTANT_RANGE = 'between 1970 and 9999';

export const isPlausibleInstant = (ms: number): boolean => ms >= EARLIEST_MS && ms < LATEST_MS;

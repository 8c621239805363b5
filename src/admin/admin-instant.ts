import { z } from 'zod';
import { INSTANT_RANGE, isPlausibleInstant } from '../protocol/instants.ts';

/**
 * A point in time as an operator types it: a day (2026-12-01, midnight UTC), a moment with its offset
 * (2026-12-01T09:30:00Z), or today / yesterday (midnight UTC), within the range of protocol/instants.ts.
 */

const FORMAT = `a day (2026-12-01), a moment with its offset (2026-12-01T09:30:00Z), today or yesterday, ${INSTANT_RANGE}`;
const DAY_MS = 86_400_000;

function startOfUtcDay(at: number): Date {
  return new Date(at - (at % DAY_MS));
}

function parseInstant(text: string): Date | undefined {
  if (text === 'today') return startOfUtcDay(Date.now());
  if (text === 'yesterday') return startOfUtcDay(Date.now() - DAY_MS);
  if (!z.iso.date().safeParse(text).success && !z.iso.datetime({ offset: true }).safeParse(text).success) return undefined;
  const at = new Date(text);
  return isPlausibleInstant(at.getTime()) ? at : undefined;
}

const adminInstant = z
  .string()
  .transform((text, ctx) => {
    const at = parseInstant(text.trim());
    if (!at) ctx.addIssue({ code: 'custom', message: `must be ${FORMAT} (got ${JSON.stringify(text.slice(0, 40))})` });
    return at ?? z.NEVER;
  })
  .meta({ type: 'string' });

/** An instant field, described for the CLI's help and the OpenAPI document by what it means and the forms it takes. */
export const instantField = (meaning: string) => adminInstant.describe(`${meaning}: ${FORMAT}`);

import { setTimeout as sleep } from 'node:timers/promises';
import { type RecordedUse, usesOfConsent } from '../../src/consents/consent-use.ts';
import type { ConsentUseKind } from '../../src/db/schema.ts';
import type { TestAssent } from './assent.ts';

/**
 * The consent's recorded uses once one of `kind` is among them. Introspections are written off the
 * request path within about a second; the generous deadline keeps a busy machine from failing it.
 */
export async function usesRecorded(
  assent: TestAssent,
  consentId: string,
  kind: ConsentUseKind,
  deadlineMs = 20_000,
): Promise<RecordedUse[]> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const uses = await usesOfConsent(assent.db, consentId);
    if (uses.some((use) => use.kind === kind)) return uses;
    if (Date.now() > until)
      throw new Error(`no ${kind} use of consent ${consentId} recorded within ${deadlineMs} ms: ${JSON.stringify(uses)}`);
    await sleep(100);
  }
}

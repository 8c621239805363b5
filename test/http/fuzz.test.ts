import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestAssent, startTestAssent } from '../support/assent.ts';
import { changedTables, databaseFingerprint } from '../support/db-fingerprint.ts';
import { type FuzzTarget, fuzzTargets, inProtocolShape, seededRng } from '../support/fuzz.ts';

/**
 * A small seeded sample of the fuzz run (`npm run fuzz` runs thousands of cases per endpoint): every
 * public endpoint refuses hostile input with a 4xx in its protocol's shape, and nothing in the
 * database changes. FUZZ_SEED reproduces a run.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const CASES = Number(process.env.FUZZ_CASES ?? 6);

describe('fuzzing every public endpoint with hostile input', () => {
  let assent: TestAssent;
  let targets: FuzzTarget[];
  before(async () => {
    // No background sweep: deleting what expired would read as a change the fuzz caused.
    assent = await startTestAssent({ SWEEP_INTERVAL: '86400' });
    targets = await fuzzTargets(assent);
  });
  after(async () => {
    await assent?.stop();
  });

  test(`${CASES} cases per endpoint (seed ${SEED}): never a 5xx, always the protocol's shape, no database change`, async () => {
    const fingerprint = await databaseFingerprint(assent.db);
    const rng = seededRng(SEED);
    for (const target of targets) {
      for (let i = 0; i < CASES; i += 1) {
        const outcome = await target.send(rng);
        assert.ok(
          outcome.status >= 400 && outcome.status < 500,
          `${target.name} case ${i}: ${outcome.status} ${outcome.body.slice(0, 200)}`,
        );
        assert.ok(
          inProtocolShape(target.surface, outcome),
          `${target.name} case ${i}: not ${target.surface}-shaped: ${outcome.contentType} ${outcome.body.slice(0, 200)}`,
        );
      }
    }
    assert.deepEqual(changedTables(fingerprint, await databaseFingerprint(assent.db)), []);
  });
});

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { changedTables, databaseFingerprint } from '../support/db-fingerprint.ts';
import { type FuzzTarget, fuzzTargets, inProtocolShape, seededRng } from '../support/fuzz.ts';
import { useAssent } from '../support/fixture.ts';

/**
 * A small seeded sample of the fuzz run (`npm run fuzz` runs thousands of cases per endpoint): every
 * public endpoint refuses hostile input with a 4xx in its protocol's shape, and nothing in the
 * database changes. FUZZ_SEED reproduces a run.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const CASES = Number(process.env.FUZZ_CASES ?? 6);

describe('fuzzing every public endpoint with hostile input', () => {
  let targets: FuzzTarget[];
  // No background sweep: deleting what expired would read as a change the fuzz caused.
  const assent = useAssent({ SWEEP_INTERVAL: '86400' });
  before(async () => {
    targets = await fuzzTargets(assent);
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

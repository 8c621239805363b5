import { startTestAssent } from './support/assent.ts';
import { changedTables, databaseFingerprint } from './support/db-fingerprint.ts';
import { fuzzTargets, inProtocolShape, seededRng } from './support/fuzz.ts';
import { startPostgresCluster } from './support/postgres-cluster.ts';

/**
 * `npm run fuzz`: thousands of seeded hostile cases per public endpoint (FUZZ_CASES, default 2000;
 * FUZZ_SEED; FUZZ_CONCURRENCY, default 8) against a real Assent on a real Postgres (DATABASE_URL, or
 * a throwaway cluster). Prints, per endpoint, the 5xx answers, the answers outside the protocol's
 * shape and the tables changed; exits non-zero unless all are 0.
 */

const CASES = Number(process.env.FUZZ_CASES ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 8);

const cluster = process.env.DATABASE_URL ? undefined : await startPostgresCluster();
process.env.DATABASE_URL ??= cluster!.url;
// No background sweep during the run: deleting what expired would read as a change the fuzz caused.
const assent = await startTestAssent({ SWEEP_INTERVAL: '86400' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void assent.stop().finally(() => {
      cluster?.stop();
      process.exit(130);
    });
  });
}
let failures = 0;
try {
  const targets = await fuzzTargets(assent);
  const rng = seededRng(SEED);
  console.log(`fuzz: seed ${SEED}, ${CASES} cases per endpoint, ${targets.length} endpoints`);
  console.log(['endpoint'.padEnd(42), '5xx'.padStart(6), 'shape'.padStart(6), 'non-4xx'.padStart(8), 'db changes'.padStart(11)].join(''));
  for (const target of targets) {
    const fingerprint = await databaseFingerprint(assent.db);
    const counts = { serverErrors: 0, shape: 0, notRefused: 0 };
    let first: string | undefined;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < CASES; i += 1) {
      // The case is drawn from the generator synchronously, in order, so a seed always replays the same inputs.
      const done: Promise<void> = target
        .send(rng)
        .then(
          (outcome) => {
            if (outcome.status >= 500) counts.serverErrors += 1;
            else if (outcome.status < 400) counts.notRefused += 1;
            else if (!inProtocolShape(target.surface, outcome)) counts.shape += 1;
            if ((outcome.status >= 500 || outcome.status < 400 || !inProtocolShape(target.surface, outcome)) && !first)
              first = `${outcome.status} ${outcome.contentType} ${outcome.body.slice(0, 160)}`;
          },
          (error: unknown) => {
            counts.serverErrors += 1;
            first ??= String(error);
          },
        )
        .finally(() => inFlight.delete(done));
      inFlight.add(done);
      if (inFlight.size >= CONCURRENCY) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    const changed = changedTables(fingerprint, await databaseFingerprint(assent.db));
    failures += counts.serverErrors + counts.shape + counts.notRefused + changed.length;
    console.log(
      [
        target.name.padEnd(42),
        String(counts.serverErrors).padStart(6),
        String(counts.shape).padStart(6),
        String(counts.notRefused).padStart(8),
        String(changed.length).padStart(11),
        changed.length ? `  ${changed.join(', ')}` : '',
        first ? `  first: ${first}` : '',
      ].join(''),
    );
  }
} finally {
  await assent.stop();
  cluster?.stop();
}
console.log(failures === 0 ? 'fuzz: no 5xx, every refusal in its protocol shape, no database change' : `fuzz: ${failures} problems`);
process.exit(failures === 0 ? 0 : 1);

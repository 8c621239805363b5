import { type Db, pingDatabase } from '../db/connect.ts';
import { migrationsCurrent } from '../db/migrate.ts';

export interface ReadinessSources {
  db: Db;
  /** Signing keys the provider holds right now. */
  signingKeyCount: () => number;
  /** True while the public listener serves: false until it opens and once shutdown began (the load balancer stops sending traffic). */
  accepting: () => boolean;
}

export interface Readiness {
  ready: boolean;
  checks: { database: boolean; migrations: boolean; keys: boolean; accepting: boolean };
}

/** What a load balancer needs before routing traffic here; each check fails closed. */
export async function checkReadiness(sources: ReadinessSources): Promise<Readiness> {
  const database = await pingDatabase(sources.db).then(
    () => true,
    () => false,
  );
  const migrations = database && (await migrationsCurrent(sources.db).catch(() => false));
  const checks = { database, migrations, keys: sources.signingKeyCount() > 0, accepting: sources.accepting() };
  return { ready: Object.values(checks).every(Boolean), checks };
}

import { connectDatabase, type Db } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { createTestDatabase } from './database.ts';

/** A migrated database of its own, for tests below the HTTP layer. */
export async function migratedTestDatabase(): Promise<{ db: Db; url: string; drop(): Promise<void> }> {
  const database = await createTestDatabase();
  const db = await connectDatabase({ databaseUrl: database.url, dataDir: '' });
  await migrateToLatest(db);
  return {
    db,
    url: database.url,
    async drop() {
      await db.destroy();
      await database.drop();
    },
  };
}

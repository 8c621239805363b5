import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * A fresh database per test file inside the run's Postgres, dropped when the file is done.
 * `movableClock` gives it a clock that test/support/clock.ts can move forward (see installMovableClock).
 */
export async function createTestDatabase(options: { movableClock?: boolean } = {}): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('DATABASE_URL is not set: run the tests through `npm test`');
  const name = `assent_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  if (options.movableClock) await installMovableClock(url.toString(), name);
  return {
    url: url.toString(),
    async drop() {
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/**
 * `now()` and `clock_timestamp()` of the database, shifted by the offset in `test_clock`. Postgres looks
 * in pg_catalog first only while search_path does not name it; naming it after public lets these
 * unqualified calls (the app's SQL, and the column defaults its migrations create) find public's
 * functions instead. Set on the database before anyone connects, so every session, every prepared
 * statement and every `default now()` of the migrations binds to the shifted clock.
 */
async function installMovableClock(url: string, name: string) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      create table public.test_clock (only_row boolean primary key default true check (only_row), shift interval not null);
      insert into public.test_clock (shift) values (interval '0');
      create function public.now() returns timestamptz language sql stable
        as 'select pg_catalog.now() + (select shift from public.test_clock)';
      create function public.clock_timestamp() returns timestamptz language sql volatile
        as 'select pg_catalog.clock_timestamp() + (select shift from public.test_clock)';
      alter database ${name} set search_path = public, pg_catalog;
    `);
  } finally {
    await client.end();
  }
}

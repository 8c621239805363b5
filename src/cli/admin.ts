import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { connectDatabase, type Db } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { type AdminCommand, UsageError } from './admin-command.ts';
import { customerCommands } from './commands/customer-commands.ts';
import { eventCommands } from './commands/event-commands.ts';
import { keyCommands } from './commands/key-commands.ts';
import { resourceServerCommands } from './commands/resource-server-commands.ts';
import { tppCommands } from './commands/tpp-commands.ts';

/** The bank operator's command line: `npm run admin -- <command> ...`. Each module contributes its commands. */
const commands: AdminCommand[] = [...customerCommands, ...tppCommands, ...resourceServerCommands, ...keyCommands, ...eventCommands];

function help() {
  const lines = commands.map((command) => `  ${command.usage.padEnd(60)} ${command.summary}${command.devOnly ? ' (dev only)' : ''}`);
  return `usage: npm run admin -- <command> [arguments]\n\ncommands:\n${lines.join('\n')}`;
}

const [name, ...rest] = process.argv.slice(2);
const command = commands.find((candidate) => candidate.name === name);
if (!command) {
  console.error(name && name !== 'help' ? `unknown command: ${name}\n\n${help()}` : help());
  process.exit(name && name !== 'help' ? 2 : 0);
}

const config = loadConfig();
if (command.devOnly && !config.devMode) {
  console.error(`${command.name} is available in dev mode only`);
  process.exit(2);
}

// Embedded PGlite belongs to one process: commands that need no database must not open it beside a running server.
const db = command.database === false ? undefined : await connectDatabase(config);
try {
  if (db) await migrateToLatest(db);
  const { positionals, values } = parseArgs({ args: rest, options: command.options ?? {}, allowPositionals: true, strict: true });
  await command.run({ config, db: db as Db, out: (line) => process.stdout.write(`${line}\n`) }, { positionals, values });
} catch (error) {
  if (error instanceof UsageError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    console.error(`${(error as Error).message}\nusage: npm run admin -- ${command.usage}`);
    process.exitCode = 2;
  } else {
    throw error;
  }
} finally {
  await db?.destroy();
}

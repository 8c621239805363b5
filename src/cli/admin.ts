import { parseArgs } from 'node:util';
import type { z } from 'zod';
import type { AdminOperation } from '../admin/admin-operation.ts';
import { ADMIN_OPERATIONS } from '../admin/admin-operations.ts';
import { firstIssue } from '../admin/input-issues.ts';
import { loadConfig } from '../config.ts';
import { type LocalCommand, UsageError } from './admin-command.ts';
import { openTransport } from './admin-transport.ts';
import { currentCodeCommand } from './commands/customer-commands.ts';
import { issueSsaCommand } from './commands/directory-commands.ts';
import { createResourceServerCli } from './commands/resource-server-commands.ts';
import { describeFailure } from './failure.ts';
import { render } from './output.ts';

/**
 * The bank operator's command line: `npm run admin -- <command> ...`. Every admin operation is a
 * command (run through the running server's admin API when there is one); a few dev helpers are local.
 * Exit codes: 0 done, 1 the command failed (one line on stderr), 2 the command line is wrong.
 */

const LOCAL: LocalCommand[] = [currentCodeCommand, issueSsaCommand];
const TOOL = 'npm run admin --';
const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
const camel = (name: string) => name.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase());

/** CLI-side additions to an operation (files read or written on the operator's machine). */
const CLI_EXTRAS: Record<string, typeof createResourceServerCli> = { 'rs:create': createResourceServerCli };

/** A boolean input field is a bare `--flag` on the command line. */
function isFlag(schema: z.ZodType): boolean {
  const def = schema.def as { type: string; innerType?: z.ZodType };
  return (
    def.type === 'boolean' || ((def.type === 'optional' || def.type === 'default') && def.innerType !== undefined && isFlag(def.innerType))
  );
}

function optionsOf(operation: AdminOperation): Record<string, { type: 'string' | 'boolean' }> {
  const shape = operation.input.shape as Record<string, z.ZodType>;
  const fields = Object.keys(shape).filter((field) => !(operation.positionals ?? []).includes(field));
  const extras = CLI_EXTRAS[operation.name];
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const field of fields)
    if (!(extras && field === 'jwks')) options[kebab(field)] = { type: isFlag(shape[field]!) ? 'boolean' : 'string' };
  return { ...options, ...extras?.options };
}

function usageOf(command: AdminOperation | LocalCommand): string {
  if ('usage' in command) return command.usage;
  const shape = command.input.shape as Record<string, { safeParse(value: unknown): { success: boolean } }>;
  const positionals = (command.positionals ?? []).map((field) => `<${kebab(field)}>`);
  const options = Object.entries(optionsOf(command)).map(([option, { type }]) => {
    const field = shape[camel(option)];
    const optional = !field || field.safeParse(undefined).success;
    const written = type === 'boolean' ? `--${option}` : `--${option} <value>`;
    return optional ? `[${written}]` : written;
  });
  return [command.name, ...positionals, ...options].join(' ');
}

/** The first input problem, naming the argument as the operator typed it (`<customer>`, `--reason`). */
function cliIssue(error: z.ZodError, positionals: string[]): string {
  const issue = error.issues[0];
  const field = issue?.path[0];
  if (!issue || typeof field !== 'string') return firstIssue(error);
  return `${positionals.includes(field) ? `<${kebab(field)}>` : `--${kebab(field)}`}${firstIssue(error).slice(field.length)}`;
}

function toolHelp(): string {
  const all = [...ADMIN_OPERATIONS, ...LOCAL];
  const lines = all.map(
    (command) => `  ${command.name.padEnd(30)} ${command.summary}${'devOnly' in command && command.devOnly ? ' (dev only)' : ''}`,
  );
  return [
    `usage: ${TOOL} <command> [arguments] [--json]`,
    `       ${TOOL} help <command>`,
    '',
    'With a server running, commands go through its admin API (found in DATA_DIR, or ADMIN_URL); otherwise they open the database.',
    '',
    'commands:',
    ...lines,
  ].join('\n');
}

/** What an input field takes, in words: its description and, for a choice, every allowed value. */
function takes(schema: z.ZodType): string {
  let inner = schema;
  let fallback: unknown;
  while (['optional', 'default', 'prefault', 'nullable'].includes(inner.def.type)) {
    const def = inner.def as unknown as { type: string; innerType: z.ZodType; defaultValue?: unknown };
    if (def.type === 'default') fallback = def.defaultValue;
    inner = def.innerType;
  }
  const choices =
    inner.def.type === 'enum' ? Object.values((inner.def as unknown as { entries: Record<string, string> }).entries) : undefined;
  const number = inner.def.type === 'number' ? (inner as unknown as { minValue: number | null; maxValue: number | null }) : undefined;
  const range =
    number && number.minValue !== null && number.maxValue !== null ? `a number from ${number.minValue} to ${number.maxValue}` : undefined;
  return [
    schema.description ?? inner.description,
    choices && `one of ${choices.join(', ')}`,
    range,
    fallback !== undefined && `default ${String(fallback)}`,
  ]
    .filter(Boolean)
    .join('; ');
}

/** An operation's arguments and options, one line each with what it takes. */
function argumentLines(operation: AdminOperation): string[] {
  const shape = operation.input.shape as Record<string, z.ZodType>;
  const entries = [
    ...(operation.positionals ?? []).map((field) => [`<${kebab(field)}>`, shape[field]] as const),
    ...Object.entries(optionsOf(operation)).map(
      ([option, { type }]) => [type === 'boolean' ? `--${option}` : `--${option} <value>`, shape[camel(option)]] as const,
    ),
    ['--json', undefined] as const,
  ];
  const width = Math.max(...entries.map(([written]) => written.length));
  return entries.map(([written, field]) =>
    `  ${written.padEnd(width)}  ${field ? takes(field) : 'print the answer as JSON (lists print as a table)'}`.trimEnd(),
  );
}

function commandHelp(command: AdminOperation | LocalCommand): string {
  const usage = `usage: ${TOOL} ${usageOf(command)}${'input' in command ? ' [--json]' : ''}\n\n${command.summary}`;
  return 'input' in command ? [usage, '', ...argumentLines(command)].join('\n') : usage;
}

function find(name: string) {
  return ADMIN_OPERATIONS.find((operation) => operation.name === name) ?? LOCAL.find((command) => command.name === name);
}

const wantsHelp = (args: string[]) => args.some((arg) => arg === '--help' || arg === '-h');

async function runOperation(operation: AdminOperation, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    options: { ...optionsOf(operation), json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const { json, ...rest } = values;
  const names = operation.positionals ?? [];
  if (positionals.length > names.length) throw new UsageError(`unexpected argument: ${positionals[names.length]}`);
  const missing = names.slice(positionals.length);
  if (missing.length > 0) throw new UsageError(`<${kebab(missing[0]!)}> is required`);
  const config = loadConfig();
  const prepared = CLI_EXTRAS[operation.name] ? await CLI_EXTRAS[operation.name]!.prepare(rest, config) : { input: rest };
  const input: Record<string, unknown> = Object.fromEntries(
    Object.entries(prepared.input).map(([option, value]) => [camel(option), value]),
  );
  names.forEach((field, index) => {
    input[field] = positionals[index];
  });
  const parsed = operation.input.safeParse(input);
  if (!parsed.success) throw new UsageError(cliIssue(parsed.error, names));
  const transport = await openTransport(config);
  let result: unknown;
  try {
    // The raw input goes over the API (the server parses it again); the parsed one runs locally.
    result = await transport.run(
      operation,
      transport.description.startsWith('admin API') ? input : (parsed.data as Record<string, unknown>),
    );
  } finally {
    await transport.close();
  }
  if ('after' in prepared && prepared.after) result = await prepared.after(result as { client_id: string });
  for (const line of render(result, { json: json === true, jsonl: operation.format === 'jsonl', width: process.stdout.columns }))
    process.stdout.write(`${line}\n`);
  if (operation.name === 'audit:verify' && (result as { valid: boolean }).valid === false) {
    const broken = (result as { broken: { subjectType: string; subjectId: string; brokenAt: number }[] }).broken;
    process.stderr.write(
      `audit trail broken: ${broken.map((chain) => `${chain.subjectType} ${chain.subjectId} at event ${chain.brokenAt}`).join('; ')}\n`,
    );
    return 1;
  }
  return 0;
}

async function runLocal(command: LocalCommand, args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    options: { ...command.options, json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const config = loadConfig();
  if (command.devOnly && !config.devMode) throw new UsageError(`${command.name} is available in dev mode only`);
  const { json, ...rest } = values;
  const result = await command.run({ config, out: (line) => process.stdout.write(`${line}\n`) }, { positionals, values: rest });
  if (result !== undefined)
    for (const line of render(result, { json: json === true, jsonl: false, width: process.stdout.columns }))
      process.stdout.write(`${line}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(`${toolHelp()}\n`);
    return 2;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const topic = rest[0] && find(rest[0]);
    if (rest[0] && !topic) {
      process.stderr.write(`unknown command: ${rest[0]} (${TOOL} help lists them)\n`);
      return 2;
    }
    process.stdout.write(`${topic ? commandHelp(topic) : toolHelp()}\n`);
    return 0;
  }
  const command = find(name);
  if (!command) {
    process.stderr.write(`unknown command: ${name} (${TOOL} help lists them)\n`);
    return 2;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(`${commandHelp(command)}\n`);
    return 0;
  }
  try {
    return 'input' in command ? await runOperation(command, rest) : await runLocal(command, rest);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(error as Error).message}\nusage: ${TOOL} ${usageOf(command)}\n`);
      return 2;
    }
    process.stderr.write(`error: ${describeFailure(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));

import { listDeadLetters, redeliverDeadLetters } from '../../events/dead-letters.ts';
import { type AdminCommand, UsageError } from '../admin-command.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const deadLettersCommand: AdminCommand = {
  name: 'events:dead-letters',
  usage: 'events:dead-letters [--client <client_id>] [--limit <n>]',
  summary: 'lists event notifications whose push gave up (oldest first), with the last error',
  options: { client: { type: 'string' }, limit: { type: 'string' } },
  async run({ db, out }, { values }) {
    const limit = values.limit === undefined ? 100 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError('--limit must be a whole number from 1 to 10000');
    const letters = await listDeadLetters(db, { clientId: values.client as string | undefined, limit });
    out(JSON.stringify(letters, null, 2));
  },
};

const redeliverCommand: AdminCommand = {
  name: 'events:redeliver',
  usage: 'events:redeliver (--all | --client <client_id> | <event id>...)',
  summary: 'queues dead-lettered event notifications for push again, with fresh attempts',
  options: { all: { type: 'boolean' }, client: { type: 'string' } },
  async run({ db, out }, { positionals, values }) {
    const clientId = values.client as string | undefined;
    const chosen = [values.all === true, clientId !== undefined, positionals.length > 0].filter(Boolean).length;
    if (chosen !== 1) throw new UsageError('give exactly one of --all, --client <client_id> or event ids');
    const bad = positionals.find((id) => !UUID.test(id));
    if (bad) throw new UsageError(`${bad} is not an event id (a UUID, as events:dead-letters lists them)`);
    const queued = await redeliverDeadLetters(db, { clientId, eventIds: positionals.length > 0 ? positionals : undefined });
    out(JSON.stringify({ queued }));
  },
};

export const eventCommands = [deadLettersCommand, redeliverCommand];

import { Client } from 'pg';

/** Every statement this process sends Postgres while `run` runs (the server runs in this process). */
export async function statementsDuring(run: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const query = Client.prototype.query;
  Client.prototype.query = function recorded(this: Client, ...args: Parameters<typeof query>) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
    sent.push(String(text).replace(/\s+/g, ' '));
    return query.apply(this, args);
  } as typeof query;
  try {
    await run();
  } finally {
    Client.prototype.query = query;
  }
  return sent;
}

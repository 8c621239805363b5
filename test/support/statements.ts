import { Client } from 'pg';

/** A statement sent to Postgres, with the connection that sent it (numbered in order of first use). */
export interface SentStatement {
  connection: number;
  text: string;
}

/**
 * Every statement this process sends Postgres while `run` runs (the server runs in this process), with its
 * connection: background work (the event push, the consent-use recorder) sends on other connections, so a
 * transaction's statements are those of its own connection.
 */
export async function sentStatementsDuring(run: () => Promise<unknown>): Promise<SentStatement[]> {
  const sent: SentStatement[] = [];
  const connections = new WeakMap<Client, number>();
  let nextConnection = 0;
  const query = Client.prototype.query;
  Client.prototype.query = function recorded(this: Client, ...args: Parameters<typeof query>) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
    if (!connections.has(this)) connections.set(this, (nextConnection += 1));
    sent.push({ connection: connections.get(this)!, text: String(text).replace(/\s+/g, ' ') });
    return query.apply(this, args);
  } as typeof query;
  try {
    await run();
  } finally {
    Client.prototype.query = query;
  }
  return sent;
}

/** Every statement this process sends Postgres while `run` runs (the server runs in this process). */
export async function statementsDuring(run: () => Promise<unknown>): Promise<string[]> {
  return (await sentStatementsDuring(run)).map((statement) => statement.text);
}

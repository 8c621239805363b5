import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Agent, fetch } from 'undici';
import { PortUnavailable } from '../http/listen-check.ts';
import { DISCOVERY_PATH } from '../protocol/routes.ts';

/**
 * What the demo tools (npm run demo, npm run demo-tpp) need before they do anything: the dev CA a
 * dev-mode server wrote into DATA_DIR, and that server answering at the issuer. Either missing is one
 * line saying what to start or set, never a stack from the first request.
 */

/** Why a demo tool stops, as one line saying what to start, set or do. */
export class DemoHalted extends Error {
  override name = 'DemoHalted';
}

/** How long the server gets to answer discovery: it is on this machine, and answers in milliseconds. */
const ANSWER_WITHIN_MS = 5_000;

/** The dev CA's certificate, once the server at `issuer` answered with a certificate it issued. */
export async function reachDevServer(settings: { issuer: string; dataDir: string }): Promise<string> {
  const caFile = path.join(settings.dataDir, 'tls', 'ca.pem');
  const ca = await readFile(caFile, 'utf8').catch((error: unknown) => {
    throw new DemoHalted(
      `no dev CA at ${caFile}: start the server once with \`npm start\` (dev mode creates it), or set DATA_DIR to the server's`,
      { cause: error },
    );
  });
  const agent = new Agent({ connect: { ca } });
  try {
    const response = await fetch(`${settings.issuer}${DISCOVERY_PATH}`, {
      dispatcher: agent,
      signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
    });
    if (!response.ok) throw new Error(`discovery answered ${response.status}`);
  } catch (error) {
    throw new DemoHalted(
      `no Assent server answers at ${settings.issuer}: start it with \`npm start\` in another terminal, or set PORT (or ISSUER) to where it listens`,
      { cause: error },
    );
  } finally {
    await agent.close();
  }
  return ca;
}

/** The step's result; a reason the demo cannot go on is one line on stderr and exit code 1. */
export async function orHalt<T>(step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (error) {
    if (!(error instanceof DemoHalted || error instanceof PortUnavailable)) throw error;
    process.stderr.write(`${error.message}\n`);
    return process.exit(1);
  }
}

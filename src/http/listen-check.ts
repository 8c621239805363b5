import net from 'node:net';

/** A listener the server will open, and the settings that place it (config.ts, plannedListeners). */
interface PlannedListener {
  portVariable: string;
  hostVariable: string;
  host: string;
  port: number;
}

/** A port the server cannot listen on, as one line naming the setting to change. */
export class PortUnavailable extends Error {
  override name = 'PortUnavailable';
}

/** What a failed listen means to the operator; errors that are not about the address pass through. */
export function describeListenFailure(listener: PlannedListener, error: unknown): Error {
  const { portVariable, hostVariable, host, port } = listener;
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return new PortUnavailable(
        `${portVariable}=${port}: ${host}:${port} is in use by another process; stop it, or set ${portVariable} to a free port`,
        { cause: error },
      );
    case 'EACCES':
      return new PortUnavailable(
        `${portVariable}=${port}: this user may not listen on ${host}:${port} (ports below 1024 need privileges); set ${portVariable} to 1024 or above`,
        { cause: error },
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new PortUnavailable(
        `${hostVariable}=${host} is not an address of this machine; set ${hostVariable} to one (127.0.0.1, or 0.0.0.0 for every interface)`,
        { cause: error },
      );
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * Binds each fixed port for a moment and lets it go, before start-up migrates or seeds anything: a port
 * another process holds stops start-up with one line while nothing has been done yet. (Port 0 asks the
 * system for a free one and cannot be taken.) The listeners still open last, when the app is ready.
 */
export async function checkPortsFree(listeners: readonly PlannedListener[]): Promise<void> {
  for (const listener of listeners) {
    if (listener.port === 0) continue;
    const probe = net.createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', (error) => reject(describeListenFailure(listener, error)));
      probe.listen(listener.port, listener.host, () => resolve());
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
}

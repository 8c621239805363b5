import https from 'node:https';
import { describeListenFailure } from '../http/listen-check.ts';
import { INTERACTION_LIFETIME_SECONDS, PAR_LIFETIME_SECONDS } from '../oidc/provider.ts';
import { DemoHalted, orHalt } from './dev-server.ts';

/**
 * The demo TPP's redirect URI: an https listener on localhost (with the dev server certificate) that takes
 * the customer's return once. It opens before anything is registered or created, so a port already taken
 * stops a demo with nothing left behind.
 */

export interface DemoCallback {
  redirectUri: string;
  /** The URL the customer came back to, or a halt once the sign-in link can no longer be used. */
  received(): Promise<URL>;
}

/** How long a customer has: as long as the pushed request lives and a sign-in begun with it may take. */
export const WAIT_SECONDS = PAR_LIFETIME_SECONDS + INTERACTION_LIFETIME_SECONDS;

export async function openDemoCallback(port: number, tls: { cert: string; key: string }): Promise<DemoCallback> {
  const redirectUri = `https://localhost:${port}/callback`;
  const { promise: arrival, resolve: arrived } = Promise.withResolvers<URL>();
  const listener = https.createServer(tls, (request, response) => {
    const url = new URL(request.url ?? '/', redirectUri);
    if (url.pathname !== '/callback') {
      response.writeHead(404).end();
      return;
    }
    response
      .writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
      .end('Back at the demo TPP: you can close this tab and look at the terminal.\n');
    listener.close();
    arrived(url);
  });
  const where = { portVariable: 'DEMO_CALLBACK_PORT', hostVariable: 'DEMO_CALLBACK_PORT', host: '127.0.0.1', port };
  await orHalt(
    new Promise<void>((resolve, reject) => {
      listener.once('error', (error) => reject(describeListenFailure(where, error)));
      listener.listen(port, where.host, resolve);
    }),
  );
  return {
    redirectUri,
    async received() {
      let expiry: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_resolve, reject) => {
        expiry = setTimeout(
          () =>
            reject(
              new DemoHalted(`no customer came back within ${WAIT_SECONDS / 60} minutes: the sign-in link has expired; run the demo again`),
            ),
          WAIT_SECONDS * 1000,
        );
      });
      try {
        return await orHalt(Promise.race([arrival, expired]));
      } finally {
        clearTimeout(expiry);
      }
    },
  };
}

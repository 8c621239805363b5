import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Db } from '../db/connect.ts';
import { readOptional } from '../http/tls.ts';
import { resolveAdminToken } from './admin-credentials.ts';
import { publishAdminEndpoint } from './admin-endpoint.ts';
import { refuseHostileInput } from '../http/hostile-input.ts';
import { adminErrors, adminRefusal, adminRouter } from './admin-router.ts';

export interface AdminListener {
  url: string;
  close(): Promise<void>;
}

/**
 * The admin API on its own listener (ADMIN_HOST:ADMIN_PORT, loopback by default): HTTPS with the
 * server's certificate, asking for an optional admin client certificate; plain HTTP only on loopback
 * behind a TLS-terminating proxy. Off when there is neither a token nor an admin client CA.
 */
export async function startAdminListener(deps: {
  config: Config;
  db: Db;
  logger: Logger;
  tls: { certPem: string; keyPem: string } | undefined;
  /** This process's signing keys were changed by an operation: publish the change now. */
  signingKeysChanged?: () => Promise<void>;
  /** Served at /admin/openapi.json: the admin API's part of the one OpenAPI document. */
  openApi: object;
}): Promise<AdminListener | undefined> {
  const { config, logger } = deps;
  const token = await resolveAdminToken({ configured: config.admin.token, devMode: config.devMode, dataDir: config.dataDir });
  const clientCaPem = await readOptional(config.admin.clientCaFile);
  if (!token && !clientCaPem) {
    logger.warn('admin API off: set ADMIN_TOKEN or ADMIN_CLIENT_CA_FILE to enable it');
    return undefined;
  }
  const router = adminRouter({
    db: deps.db,
    config,
    logger,
    token,
    openApi: deps.openApi,
    ...(deps.signingKeysChanged && { signingKeysChanged: deps.signingKeysChanged }),
  });
  const app = new Koa().use(adminErrors(logger)).use(refuseHostileInput(adminRefusal)).use(router.routes()).use(router.allowedMethods());
  const server = deps.tls
    ? https.createServer(
        {
          cert: deps.tls.certPem,
          key: deps.tls.keyPem,
          ...(clientCaPem && { ca: clientCaPem, requestCert: true, rejectUnauthorized: false }),
        },
        app.callback(),
      )
    : http.createServer(app.callback());
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.admin.port, config.admin.host, () => resolve(server.address() as AddressInfo));
  });
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${deps.tls ? 'https' : 'http'}://${host}:${address.port}`;
  const unpublish = await publishAdminEndpoint(config.dataDir, {
    pid: process.pid,
    url,
    ...(deps.tls && { certificatePem: deps.tls.certPem }),
  });
  logger.info({ adminApi: url, openapi: `${url}/admin/openapi.json` }, 'admin API listening');
  return {
    url,
    async close() {
      await unpublish();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

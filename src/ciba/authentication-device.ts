import type { Logger } from 'pino';

/**
 * The seam where a bank's own push channel plugs in (`startAssent(config, logger, {
 * triggerAuthenticationDevice })`): told of every decoupled request for one of its customers, so it
 * can wake the customer's app, which then lists and decides through the JSON endpoint
 * (GET /dashboard/api/decoupled-requests). It carries what the customer will see, never a credential
 * or the TPP's auth_req_id. It is not awaited by the TPP's request and never told of requests that
 * name no customer (so neither its timing nor its failures tell a TPP who banks here).
 */
export interface DecoupledRequestNotice {
  /** The request's id on the authentication device (the JSON endpoint's `:id`). */
  requestId: string;
  customerId: string;
  clientId: string;
  tppName: string;
  bindingMessage: string;
  consentId: string;
  expiresAt: Date;
}

export type TriggerAuthenticationDevice = (notice: DecoupledRequestNotice) => Promise<void>;

/** Dev mode's device: the pending request in the log, for whoever runs the server to open the dashboard. */
export function logAuthenticationDevice(logger: Logger): TriggerAuthenticationDevice {
  return async (notice) => {
    logger.info(
      { decoupledRequest: { ...notice, expiresAt: notice.expiresAt.toISOString() } },
      'decoupled request waiting for the customer: approve or deny it on /dashboard/decoupled',
    );
  };
}
